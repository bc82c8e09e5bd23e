import { useState } from "react";

import { ErrorAlert } from "../layout/ErrorAlert";
import { useAction } from "../layout/useAction";
import { planAdmin } from "./planForms";
import type { Plan } from "./types";

/** Moves a user (username, email or id) onto the plan; its credits come with the next grant. */
export function PlanAssignForm({ plan }: { plan: Plan }) {
  const [user, setUser] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, setError, run } = useAction();
  const id = `plan-assign-${plan.id}`;

  function submit(event: React.FormEvent) {
    event.preventDefault();
    setDone(null);
    if (!user.trim()) return setError("User: a username, email or id");
    void run(async () => {
      const moved = await planAdmin.assign(plan.id, user.trim());
      setUser("");
      setDone(`${moved.username} is now on ${moved.planName}.`);
    });
  }

  return (
    <form className="admin-inline" aria-label={`Move a user to ${plan.name}`} noValidate onSubmit={submit}>
      <label htmlFor={id}>Move a user to {plan.name}</label>
      <input id={id} value={user} placeholder="username, email or id" onChange={(event) => setUser(event.target.value)} />
      <button type="submit" className="secondary" disabled={busy}>
        Move to {plan.name}
      </button>
      {done && <p role="status">{done}</p>}
      <ErrorAlert error={error} />
    </form>
  );
}
