import { formatCredits } from "../balance/store";
import type { PricedModel } from "./useModels";

function describe(model: PricedModel): string {
  const price = model.pricePer1k === null ? "" : ` · ${formatCredits(model.pricePer1k)} credits / 1K tokens`;
  return `${model.name} (${model.status})${price}`;
}

export function ModelPicker({
  models,
  value,
  onChange,
}: {
  models: PricedModel[];
  value: string;
  onChange: (modelId: string) => void;
}) {
  return (
    <>
      <label htmlFor="model">Model</label>
      <select id="model" value={value} onChange={(event) => onChange(event.target.value)}>
        {models.map((model) => (
          <option key={model.id} value={model.id} disabled={model.status === "unavailable"}>
            {describe(model)}
          </option>
        ))}
      </select>
    </>
  );
}
