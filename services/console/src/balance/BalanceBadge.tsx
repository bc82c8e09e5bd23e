import { useEffect } from "react";

import { formatCredits, refreshBalance, useBalance } from "./store";

export function BalanceBadge() {
  const balance = useBalance();
  useEffect(() => {
    void refreshBalance();
  }, []);
  return (
    <p className="balance" aria-live="polite">
      <span className="balance-label">Balance</span>{" "}
      <span data-testid="balance">{balance ? formatCredits(balance.totalCredits) : "…"}</span>{" "}
      credits
    </p>
  );
}
