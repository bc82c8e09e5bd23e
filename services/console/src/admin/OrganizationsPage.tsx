import { useEffect, useState } from "react";

import { describeError } from "../api/errors";
import { parseCredits } from "../balance/amounts";
import { formatCredits } from "../balance/store";
import { ErrorAlert } from "../layout/ErrorAlert";
import { membersOf, modelGroups, newIdempotencyKey, organizations, teamsOf } from "./api";
import { formatTime } from "./credits";
import { InviteForm, NewOrganizationForm, NewTeamForm } from "./OrgForms";
import { orgAdmin } from "./orgRequests";
import { TeamKeysPanel } from "./TeamKeysPanel";
import type { Member, ModelGroup, Organization, Team } from "./types";

const PAGE = 25;

/** /admin/organizations: every organization, and on demand its teams (with their credits) and
 * members. */
export function OrganizationsPage() {
  const [orgs, setOrgs] = useState<Organization[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState("");
  const [limit, setLimit] = useState(PAGE);
  const [groups, setGroups] = useState<ModelGroup[]>([]);

  useEffect(() => {
    let live = true;
    organizations()
      .then((found) => live && setOrgs(found))
      .catch((problem: unknown) => live && setError(describeError(problem)));
    modelGroups()
      .then((found) => live && setGroups(found))
      .catch((problem: unknown) => live && setError(describeError(problem)));
    return () => {
      live = false;
    };
  }, []);

  const needle = filter.trim().toLowerCase();
  const shown = orgs?.filter(
    (org) => needle === "" || org.name.toLowerCase().includes(needle) || org.slug.includes(needle),
  );

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Organizations</h1>
      <NewOrganizationForm onCreated={(org) => setOrgs((current) => [org, ...(current ?? [])])} />
      <div className="field admin-inline">
        <label htmlFor="org-filter">Filter by name or slug</label>
        <input
          id="org-filter"
          type="search"
          value={filter}
          onChange={(event) => {
            setFilter(event.target.value);
            setLimit(PAGE);
          }}
        />
      </div>
      <ErrorAlert error={error} />
      {orgs === null && !error && <p>Loading…</p>}
      {shown?.length === 0 && <p className="hint">No organization matches.</p>}
      {shown && shown.length > 0 && (
        <ul className="user-list">
          {shown.slice(0, limit).map((org) => (
            <OrgCard
              key={org.id}
              org={org}
              groups={groups}
              onDeleted={() => setOrgs((current) => current?.filter((o) => o.id !== org.id) ?? null)}
            />
          ))}
        </ul>
      )}
      {shown && shown.length > limit && (
        <button type="button" className="secondary" onClick={() => setLimit(limit + PAGE)}>
          Show {Math.min(PAGE, shown.length - limit)} more of {shown.length - limit}
        </button>
      )}
    </section>
  );
}

function OrgCard({
  org,
  groups,
  onDeleted,
}: {
  org: Organization;
  groups: ModelGroup[];
  onDeleted: () => void;
}) {
  const [open, setOpen] = useState(false);
  const [detail, setDetail] = useState<{ teams: Team[]; members: Member[] } | null>(null);
  const [keysOf, setKeysOf] = useState<Team | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function toggle() {
    const next = !open;
    setOpen(next);
    if (!next || detail !== null) return;
    setError(null);
    try {
      const [teams, members] = await Promise.all([teamsOf(org.id), membersOf(org.id)]);
      setDetail({ teams, members });
    } catch (problem) {
      setError(describeError(problem));
    }
  }

  async function attempt(action: () => Promise<void>) {
    setError(null);
    try {
      await action();
    } catch (problem) {
      setError(describeError(problem));
    }
  }

  const fund = (team: Team) => {
    const typed = window.prompt(`Credits to add to ${team.name} (a platform admin grants them)`);
    if (typed === null) return;
    const parsed = parseCredits(typed);
    if ("error" in parsed) return setError(parsed.error);
    void attempt(async () => {
      const funded = await orgAdmin.fundTeam(team.id, parsed.credits, newIdempotencyKey());
      setDetail((current) =>
        current && {
          ...current,
          teams: current.teams.map((t) => (t.id === team.id ? { ...t, credits: funded.teamCredits } : t)),
        },
      );
    });
  };

  const remove = (member: Member) => {
    if (!window.confirm(`Remove ${member.username} from ${org.name}?`)) return;
    void attempt(async () => {
      await orgAdmin.removeMember(org.id, member.userId);
      setDetail((current) => current && { ...current, members: current.members.filter((m) => m.userId !== member.userId) });
    });
  };

  const deleteOrg = () => {
    if (!window.confirm(`Delete ${org.name}? Its team keys stop working at once.`)) return;
    void attempt(async () => {
      await orgAdmin.deleteOrganization(org.id);
      onDeleted();
    });
  };

  const panel = `org-detail-${org.id}`;
  return (
    <li className="user-card">
      <h2 className="user-name">{org.name}</h2>
      <p className="user-meta">
        <span className="mono">{org.slug}</span> · created {formatTime(org.createdAt)}
      </p>
      <p className="user-meta">
        Id <span className="mono">{org.id}</span>
      </p>
      <button
        type="button"
        className="secondary"
        aria-expanded={open}
        aria-controls={panel}
        onClick={() => void toggle()}
      >
        {open ? "Hide" : "Show"} teams and members<span className="visually-hidden"> of {org.name}</span>
      </button>{" "}
      <button type="button" className="secondary" onClick={deleteOrg}>
        Delete<span className="visually-hidden"> {org.name}</span>
      </button>
      <div id={panel} hidden={!open}>
        <ErrorAlert error={error} />
        {open && detail === null && !error && <p>Loading…</p>}
        {detail && (
          <>
            <div className="table-scroll">
              <table>
                <caption>Teams</caption>
                <thead>
                  <tr>
                    <th scope="col">Team</th>
                    <th scope="col">Model groups</th>
                    <th scope="col">Credits</th>
                    <th scope="col">
                      <span className="visually-hidden">Keys</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {detail.teams.length === 0 && (
                    <tr>
                      <td colSpan={4}>No teams.</td>
                    </tr>
                  )}
                  {detail.teams.map((team) => (
                    <tr key={team.id}>
                      <td>{team.name}</td>
                      <td>{team.modelGroups.join(", ") || "—"}</td>
                      <td className="num">{team.credits === null ? "—" : formatCredits(team.credits)}</td>
                      <td>
                        <button type="button" className="link" onClick={() => fund(team)}>
                          Fund {team.name}
                        </button>{" "}
                        <button
                          type="button"
                          className="link"
                          aria-pressed={keysOf?.id === team.id}
                          onClick={() => setKeysOf(keysOf?.id === team.id ? null : team)}
                        >
                          Keys of {team.name}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {keysOf && <TeamKeysPanel key={keysOf.id} team={keysOf} />}
            <NewTeamForm
              org={org}
              groups={groups}
              onCreated={(team) => setDetail({ ...detail, teams: [...detail.teams, team] })}
            />
            <InviteForm org={org} />
            <div className="table-scroll">
              <table>
                <caption>Members</caption>
                <thead>
                  <tr>
                    <th scope="col">Member</th>
                    <th scope="col">Role</th>
                    <th scope="col">Since</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {detail.members.map((member) => (
                    <tr key={member.userId}>
                      <td>
                        {member.username}
                        {member.email && <span className="hint"> {member.email}</span>}
                      </td>
                      <td>{member.role}</td>
                      <td>{formatTime(member.createdAt)}</td>
                      <td>
                        <button type="button" className="link" onClick={() => remove(member)}>
                          Remove {member.username}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </div>
    </li>
  );
}
