"""Model simulator: a **development and test backend, not a model**.

It speaks the providers' real wire protocols so real clients work unchanged (boto3 with
`endpoint_url`, the `openai` and `anthropic` SDKs with `base_url`) and answers with
deterministic text, at a configurable pace, with faults on demand. Any model id is accepted.

## Credentials (`model_simulator.keys`)

A key it is given is checked by a development rule: an API key (OpenAI-compatible
`Authorization: Bearer`, Anthropic `x-api-key`) is valid when it starts with `sk-sim-` or is
one of `API_KEYS` (default `sk-simulator,test`); an AWS access key id (SigV4 `Credential=`)
when it starts with `AKIASIM` or is one of `ACCESS_KEY_IDS` (default `simulator,test,bench`).
The SigV4 signature itself is not verified, and a request with no credential is let through.
A wrong key is refused as the provider would: OpenAI 401 `invalid_api_key`, Anthropic 401
`authentication_error` (a request with `x-api-key` or `anthropic-version`: the `anthropic` SDK
from 2.0 sends its key as a bearer), Bedrock 403 `UnrecognizedClientException`. `GET /sim/requests`
(development and test only) lists the last requests, newest first, each with `keyKind` and
`keyFingerprint` (16 hex digits of the SHA-256 of the key or key id; never the key itself).

## Routes

- `POST /model/{modelId}/converse`: Bedrock Converse (JSON).
- `POST /model/{modelId}/converse-stream`: Bedrock ConverseStream, AWS event-stream framing:
  `messageStart`, one `contentBlockDelta` per token, `contentBlockStop`, `messageStop`,
  `metadata {usage, metrics}`.
- `POST /v1/chat/completions`: OpenAI chat completions, `stream` false or true (SSE chunks,
  `data: [DONE]`; a usage chunk with empty `choices` when `stream_options.include_usage`).
- `POST /v1/messages`: Anthropic Messages (`x-api-key` or a bearer key; `anthropic-version`
  required), `stream` false or true (SSE: `message_start` with the input tokens,
  `content_block_start`, `ping`, one `content_block_delta` `text_delta` per token,
  `content_block_stop`, `message_delta` with the stop reason and `usage.output_tokens`,
  `message_stop`).
- `GET /v1/models`, `GET /v1/models/{id}`: the ids of setting `MODELS` (Anthropic's shapes
  for a request with `x-api-key` or `anthropic-version`).
- `GET /foundation-models`, `GET /foundation-models/{id}`: Bedrock `ListFoundationModels` and
  `GetFoundationModel` (the `bedrock` control plane, as boto3's `bedrock` client calls it),
  the same ids; `byProvider`, `byOutputModality`, `byInferenceType` filter.
- `GET /api/health`, `GET /api/health/ready` (no dependencies), `GET /metrics`.

## The answer

- The prompt is the text of the last user message (its text blocks or parts joined by `\\n`).
- Word `i` of the answer is `WORDS[int(sha256(f"{seed}:{i}").hexdigest()[:8], 16) % 64]` with
  `seed = sha256(f"{modelId}\\n{prompt}").hexdigest()`; the answer is its words joined by single
  spaces (`model_simulator.generation.expected_answer(model_id, prompt, tokens)` computes it).
  Each streamed token is one word, with a leading space after the first.
- Tokens: a token is a run of non-whitespace characters (`len(text.split())`). Input tokens
  count every text of the request: system prompts and all messages of any role. Output tokens
  count the answer's words.
- Length: `ANSWER_TOKENS` words, cut to the request's max tokens (`inferenceConfig.maxTokens`;
  `max_completion_tokens`, else `max_tokens`; Anthropic's `max_tokens`): then `stopReason` /
  Anthropic's `stop_reason` is `max_tokens`, `finish_reason` is `length`. A stop sequence ends
  the answer before the first word it touches (`stop_sequence` / `stop`; Anthropic's
  `stop_sequence` names it). Otherwise `end_turn` / `stop`.
- Pace: token `i` (from 0) is due `first-token delay + i / tokens per second` after the request
  arrived; a non-streamed answer is sent when its last token is due.

## Knobs: `x-sim-*` headers or `[[sim:...]]` markers in the last user message

Headers win over markers. An unknown or malformed directive answers 400 in the provider's format.

| header | marker | default: env var |
|---|---|---|
| `x-sim-answer-tokens: N` | `[[sim:answer-tokens=N]]` | `ANSWER_TOKENS` 60 |
| `x-sim-first-token-delay-ms: N` | `[[sim:first-token-delay-ms=N]]` | `FIRST_TOKEN_DELAY_MS` 50 |
| `x-sim-tokens-per-second: X` | `[[sim:tokens-per-second=X]]` | `TOKENS_PER_SECOND` 50; 0 unpaced |

## Faults: `x-sim-fault: <fault>` or the marker `[[sim:<fault>]]`

| fault | Bedrock | OpenAI | Anthropic |
|---|---|---|---|
| `fail` | 500 `InternalServerException` | 500 `server_error` | 500 `api_error` |
| `throttle` | 429 `ThrottlingException` | 429 `rate_limit_exceeded` | 429 `rate_limit_error` |
| `stall` | headers, then nothing | the same | the same |
| `stall-after=N` | N tokens, then nothing | the same | the same |
| `cut-after=N` | N tokens, half an event, dropped | N tokens, dropped | N tokens, dropped |
| `error-after=N` | N, `modelStreamErrorException` | N, `data: {"error"}` | N, an `error` event |

OpenAI's and Anthropic's 429 come with `retry-after: 1`; "dropped": the connection is.

`fail` and `throttle` answer at once, before any token; a faulty OpenAI stream never sends
`[DONE]`, a faulty Anthropic one never `message_stop`. Without streaming, `stall` and `cut`
drop the connection mid-body and `error-after` answers 424 `ModelErrorException` / 500
`server_error` / 500 `api_error`. A stall ends when the client
disconnects, or after `MAX_STALL_SECONDS` (60) by dropping the connection. When N is larger
than the answer, the answer completes normally; when N equals it, every token arrives but the
stream does not end well. Clients retry 429 and 5xx by default (boto3, `openai`): turn retries
off to see a fault at once.

## A model's condition: `/sim/models` (development and test only)

Not served with `ENVIRONMENT=production`. `PUT /sim/models/{modelId}` with
`{"available": false}` takes the model out of both model lists and answers every call to it
with 503 (Bedrock `ServiceUnavailableException`, OpenAI `server_error`; Anthropic: 529
`overloaded_error`, as Anthropic answers when it cannot serve); with
`{"extraLatencyMs": N}` every answer of the model waits N ms more before its first token.
`DELETE /sim/models/{modelId}` (or `DELETE /sim/models` for all) serves it normally again;
`GET /sim/models` lists what was set. The condition holds for every client of this process, so
a test that sets it puts it back when done.
"""
