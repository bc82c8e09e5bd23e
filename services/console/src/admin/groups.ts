/** The model group form's rules, as provisioning applies them. */

import type { ModelGroupCreate } from "./types";

export const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/;

export interface GroupForm {
  name: string;
  models: string[];
  description: string;
}

export function checkGroup(
  form: GroupForm,
): { ok: true; group: ModelGroupCreate } | { ok: false; errors: Partial<Record<keyof GroupForm, string>> } {
  const errors: Partial<Record<keyof GroupForm, string>> = {};
  const name = form.name.trim();
  if (name === "") errors.name = "Enter a name.";
  else if (name.length > 100) errors.name = "A name has at most 100 characters.";
  else if (!GROUP_NAME.test(name)) {
    errors.name = "Use letters, digits, spaces, dots, underscores and hyphens, starting with a letter or digit.";
  }
  const models = [...new Set(form.models)];
  if (models.length === 0) errors.models = "Choose at least one model.";
  const description = form.description.trim();
  if (description.length > 1000) errors.description = "A description has at most 1,000 characters.";
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const group: ModelGroupCreate = { name, models };
  if (description !== "") group.description = description;
  return { ok: true, group };
}
