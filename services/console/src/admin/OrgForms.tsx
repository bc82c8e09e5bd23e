import { useRef, useState } from "react";

import { ErrorAlert } from "../layout/ErrorAlert";
import { useAction } from "../layout/useAction";
import { newIdempotencyKey } from "./api";
import { checkInvitation, checkOrganization, checkTeam, orgAdmin } from "./orgRequests";
import type { ModelGroup, OrgRole, Organization, Team } from "./types";

/** One Idempotency-Key per filled-in form: a resubmit after a lost answer creates nothing
 * twice; any edit starts a new request. */
function useAttempt() {
  const key = useRef(newIdempotencyKey());
  return { key, renew: () => (key.current = newIdempotencyKey()) };
}

export function NewOrganizationForm({ onCreated }: { onCreated: (org: Organization) => void }) {
  const [slug, setSlug] = useState("");
  const [name, setName] = useState("");
  const { busy, error, setError, run } = useAction();
  const attempt = useAttempt();

  function submit(event: React.FormEvent) {
    event.preventDefault();
    const checked = checkOrganization(slug, name);
    if (!checked.ok) return setError(checked.reason);
    void run(async () => {
      onCreated(await orgAdmin.createOrganization(checked.body, attempt.key.current));
      attempt.renew();
      setSlug("");
      setName("");
    });
  }

  return (
    <form className="admin-panel admin-form" aria-labelledby="new-org-title" noValidate onSubmit={submit}>
      <h2 id="new-org-title">New organization</h2>
      <label htmlFor="new-org-slug">Slug</label>
      <input
        id="new-org-slug"
        value={slug}
        placeholder="acme-research"
        onChange={(event) => {
          setSlug(event.target.value);
          attempt.renew();
        }}
      />
      <label htmlFor="new-org-name">Organization name</label>
      <input
        id="new-org-name"
        value={name}
        onChange={(event) => {
          setName(event.target.value);
          attempt.renew();
        }}
      />
      <ErrorAlert error={error} />
      <button type="submit" disabled={busy}>
        Create organization
      </button>
    </form>
  );
}

export function NewTeamForm({
  org,
  groups,
  onCreated,
}: {
  org: Organization;
  groups: ModelGroup[];
  onCreated: (team: Team) => void;
}) {
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [credits, setCredits] = useState("");
  const { busy, error, setError, run } = useAction();
  const attempt = useAttempt();
  const id = (part: string) => `new-team-${part}-${org.id}`;

  function submit(event: React.FormEvent) {
    event.preventDefault();
    const checked = checkTeam(org.id, name, chosen, credits);
    if (!checked.ok) return setError(checked.reason);
    void run(async () => {
      onCreated(await orgAdmin.createTeam(checked.body, attempt.key.current));
      attempt.renew();
      setName("");
      setChosen([]);
      setCredits("");
    });
  }

  return (
    <form className="admin-panel admin-form" aria-label={`New team in ${org.name}`} noValidate onSubmit={submit}>
      <h3>New team</h3>
      <label htmlFor={id("name")}>Team name</label>
      <input
        id={id("name")}
        value={name}
        onChange={(event) => {
          setName(event.target.value);
          attempt.renew();
        }}
      />
      <fieldset>
        <legend>Model groups</legend>
        {groups.length === 0 && <p className="hint">No model groups yet: create one first.</p>}
        {groups.map((group) => (
          <label key={group.id} className="check">
            <input
              type="checkbox"
              checked={chosen.includes(group.name)}
              onChange={(event) => {
                setChosen(
                  event.target.checked ? [...chosen, group.name] : chosen.filter((g) => g !== group.name),
                );
                attempt.renew();
              }}
            />{" "}
            {group.name}
          </label>
        ))}
      </fieldset>
      <label htmlFor={id("credits")}>Initial credits (optional; an admin grants them)</label>
      <input
        id={id("credits")}
        inputMode="decimal"
        value={credits}
        onChange={(event) => {
          setCredits(event.target.value);
          attempt.renew();
        }}
      />
      <ErrorAlert error={error} />
      <button type="submit" disabled={busy}>
        Create team
      </button>
    </form>
  );
}

export function InviteForm({ org }: { org: Organization }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<OrgRole>("member");
  const [sent, setSent] = useState<string | null>(null);
  const { busy, error, setError, run } = useAction();
  const attempt = useAttempt();
  const id = (part: string) => `invite-${part}-${org.id}`;

  function submit(event: React.FormEvent) {
    event.preventDefault();
    setSent(null);
    const checked = checkInvitation(email, role);
    if (!checked.ok) return setError(checked.reason);
    void run(async () => {
      const invitation = await orgAdmin.invite(org.id, checked.body, attempt.key.current);
      attempt.renew();
      setEmail("");
      setSent(`Invited ${invitation.email} as ${invitation.role} (valid until ${new Date(invitation.expiresAt).toLocaleDateString()}).`);
    });
  }

  return (
    <form className="admin-panel admin-form" aria-label={`Invite to ${org.name}`} noValidate onSubmit={submit}>
      <h3>Invite a member</h3>
      <label htmlFor={id("email")}>Email</label>
      <input
        id={id("email")}
        type="email"
        value={email}
        onChange={(event) => {
          setEmail(event.target.value);
          attempt.renew();
        }}
      />
      <label htmlFor={id("role")}>Role in the organization</label>
      <select
        id={id("role")}
        value={role}
        onChange={(event) => {
          setRole(event.target.value as OrgRole);
          attempt.renew();
        }}
      >
        <option value="member">member</option>
        <option value="admin">admin</option>
        <option value="owner">owner</option>
      </select>
      {sent && <p role="status">{sent}</p>}
      <ErrorAlert error={error} />
      <button type="submit" disabled={busy}>
        Send invitation
      </button>
    </form>
  );
}
