/** The first question of a chat just created, handed from the new-chat form to the
 * conversation it opens (kept in memory, so a reload never asks it twice). */

const pending = new Map<string, string>();

export function setPendingQuestion(sessionId: string, message: string): void {
  pending.set(sessionId, message);
}

export function takePendingQuestion(sessionId: string): string | null {
  const message = pending.get(sessionId) ?? null;
  pending.delete(sessionId);
  return message;
}
