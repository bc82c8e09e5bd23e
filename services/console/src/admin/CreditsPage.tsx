import { useRef, useState } from "react";
import { useSearchParams } from "react-router";

import { describeError } from "../api/errors";
import { formatCredits, refreshBalance } from "../balance/store";
import { ErrorAlert } from "../layout/ErrorAlert";
import { allocateCredits, balanceOf, newIdempotencyKey } from "./api";
import { type AllocationForm, checkAllocation, type FieldErrors, formatTime, MAX_NOTES } from "./credits";
import { Field } from "./Field";
import type { AllocateResponse, UserBalance } from "./types";

const EMPTY: AllocationForm = { user: "", credits: "", expiryDays: "", notes: "" };

/** /admin/credits: give a user credits (by username or id), optionally expiring, and see what
 * they hold afterwards. */
export function CreditsPage() {
  const [params] = useSearchParams();
  const [form, setForm] = useState<AllocationForm>({ ...EMPTY, user: params.get("user") ?? "" });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<AllocateResponse | null>(null);
  const [balance, setBalance] = useState<{ user: string; balance: UserBalance } | null>(null);
  const [balanceError, setBalanceError] = useState<string | null>(null);
  // One key per allocation: a resubmit of the same form after a lost answer replays it rather
  // than allocating twice; any change to the form is a new allocation, with a new key.
  const key = useRef(newIdempotencyKey());

  function change(field: keyof AllocationForm, value: string) {
    key.current = newIdempotencyKey();
    setForm((current) => ({ ...current, [field]: value }));
    setErrors((current) => ({ ...current, [field]: undefined }));
  }

  /** The balance of `user` (an id or username), shown under the name the admin typed. */
  async function showBalance(user: string, shownAs = user) {
    setBalanceError(null);
    try {
      setBalance({ user: shownAs, balance: await balanceOf(user) });
    } catch (problem) {
      setBalance(null);
      setBalanceError(describeError(problem));
    }
  }

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setFailure(null);
    const checked = checkAllocation(form);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setBusy(true);
    try {
      const answer = await allocateCredits(checked.request, key.current);
      key.current = newIdempotencyKey();
      setResult(answer);
      setForm((current) => ({ ...EMPTY, user: current.user }));
      await showBalance(answer.userId, checked.request.targetUserId);
      void refreshBalance(); // the header's figure, in case admins gave themselves credits
    } catch (problem) {
      setFailure(describeError(problem));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Credits</h1>
      <p className="hint">Allocate credits to a user. Spending draws from the allocation that expires first.</p>
      <form className="admin-form" noValidate onSubmit={(event) => void submit(event)}>
        <Field id="alloc-user" label="User (username or id)" error={errors.user}>
          <input
            id="alloc-user"
            name="user"
            autoComplete="off"
            required
            value={form.user}
            onChange={(event) => change("user", event.target.value)}
          />
        </Field>
        <Field id="alloc-credits" label="Amount of credits" error={errors.credits} hint="Up to 6 decimal places, e.g. 250 or 12.5">
          <input
            id="alloc-credits"
            name="credits"
            inputMode="decimal"
            autoComplete="off"
            required
            value={form.credits}
            onChange={(event) => change("credits", event.target.value)}
          />
        </Field>
        <Field id="alloc-expiry" label="Expires after (days, optional)" error={errors.expiryDays} hint="Leave empty for credits that never expire">
          <input
            id="alloc-expiry"
            name="expiryDays"
            inputMode="numeric"
            autoComplete="off"
            value={form.expiryDays}
            onChange={(event) => change("expiryDays", event.target.value)}
          />
        </Field>
        <Field id="alloc-notes" label="Notes (optional)" error={errors.notes}>
          <textarea
            id="alloc-notes"
            name="notes"
            rows={2}
            maxLength={MAX_NOTES}
            value={form.notes}
            onChange={(event) => change("notes", event.target.value)}
          />
        </Field>
        <ErrorAlert error={failure} />
        <div className="admin-actions">
          <button type="submit" disabled={busy}>
            {busy ? "Allocating…" : "Allocate credits"}
          </button>
          <button
            type="button"
            className="secondary"
            disabled={form.user.trim() === ""}
            onClick={() => void showBalance(form.user.trim())}
          >
            Show balance
          </button>
        </div>
      </form>

      {result && (
        <div className="admin-result" role="status" aria-labelledby="alloc-result-title">
          <h2 id="alloc-result-title">Allocated</h2>
          <p>{result.message}</p>
          <dl className="facts">
            <dt>Credits</dt>
            <dd data-testid="allocated-credits">{formatCredits(result.credits)}</dd>
            <dt>Expires</dt>
            <dd>{formatTime(result.expiresAt)}</dd>
            <dt>Allocation</dt>
            <dd className="mono">{result.id}</dd>
          </dl>
        </div>
      )}

      <ErrorAlert error={balanceError} />
      {balance && <BalancePanel user={balance.user} balance={balance.balance} />}
    </section>
  );
}

function BalancePanel({ user, balance }: { user: string; balance: UserBalance }) {
  return (
    <section className="admin-panel" aria-labelledby="balance-title">
      <h2 id="balance-title">Balance of {user}</h2>
      <dl className="facts">
        <dt>Total</dt>
        <dd data-testid="user-total-credits">{formatCredits(balance.totalCredits)}</dd>
        <dt>Available</dt>
        <dd>{formatCredits(balance.availableCredits)}</dd>
        <dt>Reserved</dt>
        <dd>{formatCredits(balance.reservedCredits)}</dd>
      </dl>
      {balance.activeAllocations.length === 0 ? (
        <p className="hint">No active allocations.</p>
      ) : (
        <div className="table-scroll">
          <table>
            <caption>Active allocations</caption>
            <thead>
              <tr>
                <th scope="col">Allocated</th>
                <th scope="col">Remaining</th>
                <th scope="col">Expires</th>
                <th scope="col">Notes</th>
              </tr>
            </thead>
            <tbody>
              {balance.activeAllocations.map((allocation) => (
                <tr key={allocation.id}>
                  <td className="num">{formatCredits(allocation.totalCredits)}</td>
                  <td className="num">{formatCredits(allocation.remainingCredits)}</td>
                  <td>{formatTime(allocation.expiresAt)}</td>
                  <td>{allocation.notes ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
