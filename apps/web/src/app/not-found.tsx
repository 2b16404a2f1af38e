import Link from 'next/link';

export default function NotFound() {
  return (
    <main className="login">
      <div className="login-card">
        <h1>Page not found</h1>
        <p>There is nothing at this address.</p>
        <Link className="btn btn-primary" href="/">
          Go to the dashboard
        </Link>
      </div>
    </main>
  );
}
