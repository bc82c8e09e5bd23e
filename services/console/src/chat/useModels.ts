import { useEffect, useState } from "react";

import { api } from "../api/client";
import type { Model } from "../api/types";

export interface PricedModel extends Model {
  /** Credits per 1,000 tokens at the model's higher rate; null when it could not be read. */
  pricePer1k: number | null;
}

/** GET /api/models, each with its price from accounting's calculator. */
export function useModels(): { models: PricedModel[] | null; error: unknown } {
  const [models, setModels] = useState<PricedModel[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    api
      .models()
      .then((found) => {
        if (!live) return;
        // The picker is usable at once; each price fills in as accounting answers.
        setModels(found.map((model) => ({ ...model, pricePer1k: null })));
        for (const model of found) {
          api
            .pricePer1k(model.id)
            .then((price) => {
              if (!live) return;
              setModels((current) =>
                current?.map((m) => (m.id === model.id ? { ...m, pricePer1k: price } : m)) ?? null,
              );
            })
            .catch(() => undefined);
        }
      })
      .catch((failure: unknown) => live && setError(failure));
    return () => {
      live = false;
    };
  }, []);
  return { models, error };
}
