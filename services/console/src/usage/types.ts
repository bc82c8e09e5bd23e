/** Usage figures as accounting's statistics send them (CONTRACT.md accounting table); credits
 * are decimal numbers with at most 6 fractional digits, shown, never summed here. */

export interface UsageTotals {
  credits: number;
  inputTokens: number;
  outputTokens: number;
  tokens: number;
  requests: number;
}

export interface ModelUsage extends UsageTotals {
  modelId: string | null;
}

export interface DayUsage extends UsageTotals {
  date: string;
}
