import { useEffect, useState } from "react";

import { describeError } from "../api/errors";
import { formatCredits } from "../balance/store";
import { ErrorAlert } from "../layout/ErrorAlert";
import { modelGroups, planHistory, plans } from "./api";
import { formatTime } from "./credits";
import { PlanAssignForm } from "./PlanAssignForm";
import { PlanTermsForm } from "./PlanTermsForm";
import type { ModelGroup, Plan, PlanVersion } from "./types";

/** /admin/plans: every plan with the terms in force, those scheduled, and its history. */
export function PlansPage() {
  const [found, setFound] = useState<Plan[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [groups, setGroups] = useState<ModelGroup[]>([]);

  useEffect(() => {
    let live = true;
    plans()
      .then((list) => live && setFound(list))
      .catch((problem: unknown) => live && setError(describeError(problem)));
    modelGroups()
      .then((list) => live && setGroups(list))
      .catch((problem: unknown) => live && setError(describeError(problem)));
    return () => {
      live = false;
    };
  }, []);

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Plans</h1>
      <PlanTermsForm groups={groups} onSaved={(plan) => setFound((current) => [...(current ?? []), plan])} />
      <ErrorAlert error={error} />
      {found === null && !error && <p>Loading…</p>}
      {found?.length === 0 && <p className="hint">No plans.</p>}
      <ul className="user-list">
        {found?.map((plan) => (
          <PlanCard
            key={plan.id}
            plan={plan}
            groups={groups}
            onSaved={(saved) => setFound((current) => current?.map((p) => (p.id === saved.id ? saved : p)) ?? null)}
          />
        ))}
      </ul>
    </section>
  );
}

function PlanCard({
  plan,
  groups,
  onSaved,
}: {
  plan: Plan;
  groups: ModelGroup[];
  onSaved: (plan: Plan) => void;
}) {
  const [history, setHistory] = useState<PlanVersion[] | null>(null);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function toggle() {
    const next = !open;
    setOpen(next);
    if (!next || history !== null) return;
    setError(null);
    try {
      setHistory((await planHistory(plan.id)).versions);
    } catch (problem) {
      setError(describeError(problem));
    }
  }

  const panel = `plan-history-${plan.id}`;
  return (
    <li className="user-card">
      <h2 className="user-name">
        {plan.name}
        {plan.isDefault && <> <span className="tag">default</span></>}
      </h2>
      {plan.current ? (
        <p className="user-meta">
          Version {plan.current.version}: {terms(plan.current)}
        </p>
      ) : (
        <p className="user-meta">No version in force yet.</p>
      )}
      {plan.scheduled.map((version) => (
        <p className="user-meta" key={version.version}>
          Version {version.version} from {formatTime(version.effectiveFrom)}: {terms(version)}
        </p>
      ))}
      <PlanAssignForm plan={plan} />
      <button type="button" className="secondary" aria-expanded={open} aria-controls={panel} onClick={() => void toggle()}>
        {open ? "Hide" : "Show"} history and new version<span className="visually-hidden"> of {plan.name}</span>
      </button>
      <div id={panel} hidden={!open}>
        <PlanTermsForm
          plan={plan}
          groups={groups}
          onSaved={(saved) => {
            setHistory(null);
            setOpen(false);
            onSaved(saved);
          }}
        />
        <ErrorAlert error={error} />
        {open && history === null && !error && <p>Loading…</p>}
        {history && (
          <div className="table-scroll">
            <table>
              <caption>History of {plan.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">From</th>
                  <th scope="col">Monthly credits</th>
                  <th scope="col">Requests / min</th>
                  <th scope="col">Model groups</th>
                </tr>
              </thead>
              <tbody>
                {history.map((version) => (
                  <tr key={version.version}>
                    <td className="num">{version.version}</td>
                    <td>{formatTime(version.effectiveFrom)}</td>
                    <td className="num">{formatCredits(version.monthlyCredits)}</td>
                    <td className="num">{version.requestsPerMinute}</td>
                    <td>{version.modelGroups.join(", ") || "any model"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </li>
  );
}

function terms(version: PlanVersion): string {
  const models = version.modelGroups.length ? version.modelGroups.join(", ") : "any model";
  return `${formatCredits(version.monthlyCredits)} credits a month, ${version.requestsPerMinute} requests a minute, ${models}`;
}
