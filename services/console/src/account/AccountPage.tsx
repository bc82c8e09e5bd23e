import "./account.css";

import { ApiKeysSection } from "./ApiKeysSection";
import { ProviderKeysSection } from "./ProviderKeysSection";
import { TwoFactorSection } from "./TwoFactorSection";

/** What every signed-in person manages for themselves. */
export function AccountPage() {
  return (
    <div className="page account-page">
      <h1>Account</h1>
      <TwoFactorSection />
      <ApiKeysSection />
      <ProviderKeysSection />
    </div>
  );
}
