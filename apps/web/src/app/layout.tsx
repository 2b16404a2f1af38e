import type { Metadata, Viewport } from 'next';
import '@xyflow/react/dist/style.css';
import './globals.css';
import { Providers } from './providers';

export const metadata: Metadata = {
  title: 'MeshCode',
  description: 'Watch your team of AI coding agents work: status, chat, mesh graph, replay, tasks and memory.',
  icons: { icon: '/icon.svg' },
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1, themeColor: '#0f172a' };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
