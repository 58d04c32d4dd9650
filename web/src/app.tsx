/**
 * The shell: navigation, theme, live indicator, and the pages. A new page (playbook runs, on-call, ...)
 * is one entry in PAGES plus its component.
 */
import { lazy, Suspense, useEffect, type ComponentType } from 'react';
import { Link, Route, Switch, useLocation } from 'wouter';
import { ToastProvider } from './components/toast.js';
import { useLiveState } from './live.js';
import { SignIn } from './pages/sign-in.js';
import { SessionProvider, useSession, type SignedInUser } from './session.js';
import { useTheme } from './theme.js';
import type { Role } from './api.js';

// Each page is its own chunk: the first screen loads only what it shows.
const Dashboard = lazy(() => import('./pages/dashboard.js').then((m) => ({ default: m.Dashboard })));
const AlertQueue = lazy(() => import('./pages/alerts.js').then((m) => ({ default: m.AlertQueue })));
const IncidentList = lazy(() => import('./pages/incidents.js').then((m) => ({ default: m.IncidentList })));
const IncidentPage = lazy(() => import('./pages/incident.js').then((m) => ({ default: m.IncidentPage })));
const Users = lazy(() => import('./pages/users.js').then((m) => ({ default: m.Users })));
const Tokens = lazy(() => import('./pages/tokens.js').then((m) => ({ default: m.Tokens })));
const EventSearch = lazy(() => import('./pages/events.js').then((m) => ({ default: m.EventSearch })));
const Rules = lazy(() => import('./pages/rules.js').then((m) => ({ default: m.Rules })));
const Integrations = lazy(() => import('./pages/integrations.js').then((m) => ({ default: m.Integrations })));

interface PageEntry {
  readonly path: string;
  readonly label: string;
  readonly component: ComponentType;
  /** Only this role sees the page in the navigation (the API enforces it regardless). */
  readonly role?: Role;
}

export const PAGES: readonly PageEntry[] = [
  { path: '/', label: 'Dashboard', component: Dashboard },
  { path: '/alerts', label: 'Alerts', component: AlertQueue },
  { path: '/incidents', label: 'Incidents', component: IncidentList },
  { path: '/events', label: 'Events', component: EventSearch },
  { path: '/rules', label: 'Rules', component: Rules },
  { path: '/integrations', label: 'Integrations', component: Integrations, role: 'admin' },
  { path: '/users', label: 'Users', component: Users, role: 'admin' },
  { path: '/tokens', label: 'API tokens', component: Tokens },
];

export function App() {
  return (
    <SessionProvider>
      <ToastProvider>
        <Root />
      </ToastProvider>
    </SessionProvider>
  );
}

function Root() {
  const { state } = useSession();
  if (state.status === 'loading') {
    return (
      <div className="loading-screen" role="status">
        Loading…
      </div>
    );
  }
  // Signed out: the address stays as it is, so signing in again lands where the person was.
  if (state.status === 'signed-out') return <SignIn message={state.message} />;
  return <Shell user={state.user} />;
}

function Shell({ user }: { user: SignedInUser }) {
  const { signOut } = useSession();
  const [theme, cycleTheme] = useTheme();
  const live = useLiveState();
  const [location] = useLocation();
  const pages = PAGES.filter((page) => !page.role || page.role === user.role);

  useEffect(() => {
    const page =
      pages.find((p) => p.path === location) ??
      pages.find((p) => p.path !== '/' && location.startsWith(p.path));
    document.title = page ? `${page.label} · Firebreak` : 'Firebreak';
  }, [location, pages]);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          <span className="logo" aria-hidden="true" /> Firebreak
        </Link>
        <nav aria-label="Main">
          <ul>
            {pages.map((page) => {
              const current = page.path === '/' ? location === '/' : location.startsWith(page.path);
              return (
                <li key={page.path}>
                  <Link href={page.path} aria-current={current ? 'page' : undefined}>
                    {page.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="topbar-end">
          <span className={`live-dot ${live}`} role="status" title={`Live updates: ${live}`}>
            {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting' : 'Offline'}
          </span>
          <button
            type="button"
            className="ghost"
            onClick={cycleTheme}
            aria-label={`Theme: ${theme}. Change theme`}
          >
            {theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐'}{' '}
            <span className="theme-name">{theme}</span>
          </button>
          <span className="who">
            {user.name} <span className="role">{user.role}</span>
          </span>
          <button type="button" className="ghost" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<div className="page-loading" role="status" aria-label="Loading the page" />}>
          <Switch>
            {PAGES.filter((page) => !page.role || page.role === user.role).map((page) => (
              <Route key={page.path} path={page.path} component={page.component} />
            ))}
            <Route path="/incidents/:id">{(params) => <IncidentPage id={params.id} />}</Route>
            <Route>
              <section className="page">
                <h1>Not found</h1>
                <p>
                  There is no page at this address. <Link href="/">Go to the dashboard</Link>.
                </p>
              </section>
            </Route>
          </Switch>
        </Suspense>
      </main>
    </div>
  );
}
