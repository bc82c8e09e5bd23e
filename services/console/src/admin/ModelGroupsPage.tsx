import { useEffect, useRef, useState } from "react";

import { api } from "../api/client";
import { describeError } from "../api/errors";
import type { Model } from "../api/types";
import { ErrorAlert } from "../layout/ErrorAlert";
import { createModelGroup, modelGroups, newIdempotencyKey } from "./api";
import { formatTime } from "./credits";
import { Field } from "./Field";
import { checkGroup, type GroupForm } from "./groups";
import type { ModelGroup } from "./types";

const EMPTY: GroupForm = { name: "", models: [], description: "" };

/** /admin/model-groups: the named sets of models that teams and plans are limited to. */
export function ModelGroupsPage() {
  const [groups, setGroups] = useState<ModelGroup[] | null>(null);
  const [catalog, setCatalog] = useState<Model[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [form, setForm] = useState<GroupForm>(EMPTY);
  const [errors, setErrors] = useState<Partial<Record<keyof GroupForm, string>>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const key = useRef(newIdempotencyKey());

  useEffect(() => {
    let live = true;
    Promise.all([modelGroups(), api.models()])
      .then(([found, models]) => {
        if (!live) return;
        setGroups(found);
        setCatalog(models);
      })
      .catch((problem: unknown) => live && setError(describeError(problem)));
    return () => {
      live = false;
    };
  }, []);

  function change(next: GroupForm) {
    key.current = newIdempotencyKey();
    setForm(next);
    setErrors({});
  }

  function toggleModel(id: string, on: boolean) {
    change({ ...form, models: on ? [...form.models, id] : form.models.filter((m) => m !== id) });
  }

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setFailure(null);
    setCreated(null);
    const checked = checkGroup(form);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setBusy(true);
    try {
      const group = await createModelGroup(checked.group, key.current);
      key.current = newIdempotencyKey();
      setGroups((current) => [...(current ?? []).filter((g) => g.id !== group.id), group]);
      setCreated(`Model group ${group.name} created.`);
      setForm(EMPTY);
    } catch (problem) {
      setFailure(describeError(problem));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Model groups</h1>
      <form className="admin-panel admin-form" aria-labelledby="group-form-title" noValidate onSubmit={(event) => void submit(event)}>
        <h2 id="group-form-title">New model group</h2>
        <Field id="group-name" label="Group name" error={errors.name}>
          <input
            id="group-name"
            autoComplete="off"
            maxLength={100}
            value={form.name}
            onChange={(event) => change({ ...form, name: event.target.value })}
          />
        </Field>
        <fieldset className="model-choices" aria-describedby={errors.models ? "group-models-error" : undefined}>
          <legend>Models</legend>
          {catalog.map((model) => (
            <label key={model.id} className="check">
              <input
                type="checkbox"
                checked={form.models.includes(model.id)}
                onChange={(event) => toggleModel(model.id, event.target.checked)}
              />{" "}
              {model.name} <span className="hint mono">{model.id}</span>
            </label>
          ))}
          {errors.models && (
            <p id="group-models-error" className="error">
              {errors.models}
            </p>
          )}
        </fieldset>
        <Field id="group-description" label="Description (optional)" error={errors.description}>
          <textarea
            id="group-description"
            rows={2}
            maxLength={1000}
            value={form.description}
            onChange={(event) => change({ ...form, description: event.target.value })}
          />
        </Field>
        <ErrorAlert error={failure} />
        <p className="admin-live" role="status">
          {created}
        </p>
        <div className="admin-actions">
          <button type="submit" disabled={busy}>
            Create model group
          </button>
        </div>
      </form>
      <ErrorAlert error={error} />
      {groups === null && !error && <p>Loading…</p>}
      {groups?.length === 0 && <p className="hint">No model groups yet.</p>}
      {groups && groups.length > 0 && (
        <div className="table-scroll">
          <table>
            <caption>Model groups</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Models</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {groups.map((group) => (
                <tr key={group.id}>
                  <td>
                    {group.name}
                    {group.description && <p className="hint">{group.description}</p>}
                  </td>
                  <td className="mono">{group.models.join(", ")}</td>
                  <td>{formatTime(group.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

    </section>
  );
}
