import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App } from './App';
import { ApiError, credential } from './api';
import './styles.css';

// A session link (`/portal/#session=hhp_…`) signs in: the token is kept for this tab and taken out of the address bar and history at once.
const fromLink = /^#session=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
if (fromLink) {
  credential.set(fromLink[1]);
  history.replaceState(null, '', `${window.location.pathname}#/subscriptions`);
}

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will not change on its own; a network error may.
      retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
      staleTime: 2_000,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
