import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Page not found</h1>
      <p>
        There is no page here. <Link to="/chat">Go to the chat</Link>.
      </p>
    </section>
  );
}

export function NotAllowedPage() {
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Not available</h1>
      <p>Your role does not give access to this page.</p>
    </section>
  );
}
