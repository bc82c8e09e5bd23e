/** A refusal or failure, announced to screen readers; nothing when there is none. */
export function ErrorAlert({ error }: { error: string | null }) {
  if (error === null) return null;
  return (
    <p role="alert" className="error">
      {error}
    </p>
  );
}
