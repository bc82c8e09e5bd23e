import { useState } from "react";
import { useNavigate } from "react-router";

import { api } from "../api/client";
import { describeError } from "../api/errors";
import { ErrorAlert } from "../layout/ErrorAlert";
import { ModelPicker } from "./ModelPicker";
import { setPendingQuestion } from "./pending";
import { useModels } from "./useModels";

export function NewChat({ onCreated }: { onCreated: () => Promise<void> }) {
  const { models, error: modelsError } = useModels();
  const [chosen, setChosen] = useState("");
  const [message, setMessage] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const firstUsable = models?.find((model) => model.status !== "unavailable")?.id ?? "";
  const modelId = chosen || firstUsable;

  async function start(event: React.FormEvent) {
    event.preventDefault();
    const question = message.trim();
    if (!question) return;
    setBusy(true);
    setError(null);
    try {
      const session = await api.createSession({ title: question.slice(0, 80), modelId });
      setPendingQuestion(session.sessionId, question);
      await onCreated();
      void navigate(`/chat/${session.sessionId}`);
    } catch (failure) {
      setError(describeError(failure));
      setBusy(false);
    }
  }

  return (
    <form className="new-chat" onSubmit={(event) => void start(event)} aria-labelledby="new-chat-title">
      <h1 id="new-chat-title">New chat</h1>
      {modelsError !== null && (
        <p role="alert" className="error">
          {describeError(modelsError)}
        </p>
      )}
      {models === null && modelsError === null && <p>Loading models…</p>}
      {models && <ModelPicker models={models} value={modelId} onChange={setChosen} />}
      <label htmlFor="first-message">Your message</label>
      <textarea
        id="first-message"
        rows={4}
        required
        value={message}
        onChange={(event) => setMessage(event.target.value)}
      />
      <ErrorAlert error={error} />
      <button type="submit" disabled={busy || !modelId}>
        Start chat
      </button>
    </form>
  );
}
