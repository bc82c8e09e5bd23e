import { useRef, useState } from "react";

import { ErrorAlert } from "../layout/ErrorAlert";
import { useAction } from "../layout/useAction";
import { newIdempotencyKey } from "./api";
import { checkPlanTerms, planAdmin, type PlanTermsForm as Form } from "./planForms";
import type { ModelGroup, Plan } from "./types";

const EMPTY: Form = { name: "", monthlyCredits: "", requestsPerMinute: "", modelGroups: [], effectiveFrom: "" };

/** A new plan, or (with ``plan``) a new version of it: versions are appended, never edited. */
export function PlanTermsForm({
  plan,
  groups,
  onSaved,
}: {
  plan?: Plan;
  groups: ModelGroup[];
  onSaved: (plan: Plan) => void;
}) {
  const [form, setForm] = useState<Form>(EMPTY);
  const { busy, error, setError, run } = useAction();
  const key = useRef(newIdempotencyKey());
  const scope = plan ? `plan-${plan.id}` : "new-plan";
  const title = plan ? `New version of ${plan.name}` : "New plan";

  function change(next: Partial<Form>) {
    key.current = newIdempotencyKey();
    setForm({ ...form, ...next });
  }

  function submit(event: React.FormEvent) {
    event.preventDefault();
    const checked = checkPlanTerms(form, plan === undefined);
    if (!checked.ok) return setError(checked.reason);
    void run(async () => {
      const saved = plan
        ? await planAdmin.addVersion(plan.id, checked.terms, key.current)
        : await planAdmin.create(checked.terms, key.current);
      key.current = newIdempotencyKey();
      setForm(EMPTY);
      onSaved(saved);
    });
  }

  return (
    <form className="admin-panel admin-form" aria-label={title} noValidate onSubmit={submit}>
      <h3>{title}</h3>
      <label htmlFor={`${scope}-name`}>{plan ? "New name (optional)" : "Plan name"}</label>
      <input id={`${scope}-name`} value={form.name} onChange={(event) => change({ name: event.target.value })} />
      <label htmlFor={`${scope}-credits`}>Monthly credits</label>
      <input
        id={`${scope}-credits`}
        inputMode="decimal"
        value={form.monthlyCredits}
        onChange={(event) => change({ monthlyCredits: event.target.value })}
      />
      <label htmlFor={`${scope}-rpm`}>Requests per minute</label>
      <input
        id={`${scope}-rpm`}
        inputMode="numeric"
        value={form.requestsPerMinute}
        onChange={(event) => change({ requestsPerMinute: event.target.value })}
      />
      <fieldset>
        <legend>Model groups (none: any model)</legend>
        {groups.map((group) => (
          <label key={group.id} className="check">
            <input
              type="checkbox"
              checked={form.modelGroups.includes(group.name)}
              onChange={(event) =>
                change({
                  modelGroups: event.target.checked
                    ? [...form.modelGroups, group.name]
                    : form.modelGroups.filter((name) => name !== group.name),
                })
              }
            />{" "}
            {group.name}
          </label>
        ))}
      </fieldset>
      <label htmlFor={`${scope}-from`}>Effective from (optional; your local time, empty: now)</label>
      <input
        id={`${scope}-from`}
        type="datetime-local"
        value={form.effectiveFrom}
        onChange={(event) => change({ effectiveFrom: event.target.value })}
      />
      <ErrorAlert error={error} />
      <button type="submit" disabled={busy}>
        {plan ? "Add version" : "Create plan"}
      </button>
    </form>
  );
}
