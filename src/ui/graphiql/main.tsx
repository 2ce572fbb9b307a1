import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { useEffect, useMemo } from 'react';
import { createRoot } from 'react-dom/client';
import { bearer, createWsClient, graphqlHttpUrl } from '../shared/api';
import { useSession } from '../shared/session';
import { SignIn } from '../shared/SignIn';
import '../shared/vigil.css';
import './graphiql.css';

const DEFAULT_QUERY = `# Vigil's GraphQL IDE: everything runs against this gateway, nothing leaves the machine.
# Sign in above to send your access token with every request (HTTP and websocket).

query Overview {
  health { status checkedAt components { name status latencyMs detail } }
  me { email role }
  myPermissions
}
`;

/** A link such as `/graphql?query=…` opens the IDE with that operation. */
const linkedQuery = new URLSearchParams(window.location.search).get('query') ?? undefined;

function Ide() {
  const session = useSession();
  const token = session.me ? session.token : null;
  const wsClient = useMemo(() => createWsClient(token, { lazy: true, retryAttempts: 3 }), [token]);
  useEffect(() => () => void wsClient.dispose(), [wsClient]);
  const fetcher = useMemo(() => {
    const authorization = bearer(token);
    return createGraphiQLFetcher({
      url: graphqlHttpUrl(),
      wsClient,
      headers: authorization ? { authorization } : {},
    });
  }, [token, wsClient]);

  return (
    <div className="vigil-ide">
      <header className="vigil-bar">
        <span className="vigil-brand">VIGIL</span>
        <span>GraphQL IDE</span>
        <a href="/console">Live console</a>
        <SignIn session={session} />
      </header>
      <main className="vigil-ide-main">
        <GraphiQL fetcher={fetcher} query={linkedQuery} defaultQuery={DEFAULT_QUERY} defaultEditorToolsVisibility shouldPersistHeaders={false} />
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(<Ide />);
