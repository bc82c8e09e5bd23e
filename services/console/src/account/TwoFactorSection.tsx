import { useState } from "react";

import { api } from "../api/client";
import { ErrorAlert } from "../layout/ErrorAlert";
import { useAction } from "../layout/useAction";
import { type TwoFactorSetup, twoFactor } from "./api";

type Step =
  | { name: "off" }
  | { name: "scanning"; setup: TwoFactorSetup }
  | { name: "backupCodes"; codes: string[] }
  | { name: "on" };

function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

/** Turn TOTP on (QR code, then one code, then the backup codes shown once) or off. */
export function TwoFactorSection() {
  const [step, setStep] = useState<Step>(() =>
    api.claims()?.mfaEnabled === true ? { name: "on" } : { name: "off" },
  );
  const [code, setCode] = useState("");
  const { busy, error, run } = useAction();

  const start = () => run(async () => setStep({ name: "scanning", setup: await twoFactor.setup() }));

  const turnOn = (event: React.FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const answer = await twoFactor.verify(code.trim());
      setCode("");
      // A new access token says 2FA is on (roles that must have it are let in from now).
      await api.refresh();
      setStep({ name: "backupCodes", codes: answer.backupCodes });
    });
  };

  const turnOff = (event: React.FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await twoFactor.disable(code.trim());
      setCode("");
      await api.refresh();
      setStep({ name: "off" });
    });
  };

  return (
    <section aria-labelledby="two-factor-title" className="account-section">
      <h2 id="two-factor-title">Two-factor authentication</h2>
      {step.name === "off" && (
        <>
          <p>Off: signing in takes only your password.</p>
          <button type="button" disabled={busy} onClick={() => void start()}>
            Set up two-factor authentication
          </button>
        </>
      )}
      {step.name === "scanning" && (
        <form onSubmit={turnOn}>
          <p>Scan this code with an authenticator app, or type the secret into it.</p>
          <img
            className="qr"
            src={svgDataUrl(step.setup.qrSvg)}
            alt="QR code of your two-factor secret"
            width={200}
            height={200}
          />
          <p>
            Secret: <code data-testid="totp-secret">{step.setup.secret}</code>
          </p>
          <label htmlFor="totp-code">Code from your authenticator app</label>
          <input
            id="totp-code"
            autoComplete="one-time-code"
            inputMode="numeric"
            required
            value={code}
            onChange={(event) => setCode(event.target.value)}
          />
          <button type="submit" disabled={busy}>
            Turn on
          </button>
        </form>
      )}
      {step.name === "backupCodes" && (
        <>
          <p role="status">
            Two-factor authentication is on. Keep these backup codes somewhere safe: each signs
            you in once if you lose your device, and they are shown only now.
          </p>
          <ul className="backup-codes" aria-label="Backup codes">
            {step.codes.map((backup) => (
              <li key={backup}>
                <code>{backup}</code>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => setStep({ name: "on" })}>
            I have saved them
          </button>
        </>
      )}
      {step.name === "on" && (
        <form onSubmit={turnOff}>
          <p>On: signing in asks for a code from your authenticator app.</p>
          <label htmlFor="totp-off-code">Code (or a backup code) to turn it off</label>
          <input
            id="totp-off-code"
            autoComplete="one-time-code"
            required
            value={code}
            onChange={(event) => setCode(event.target.value)}
          />
          <button type="submit" disabled={busy}>
            Turn off
          </button>
        </form>
      )}
      <ErrorAlert error={error} />
    </section>
  );
}
