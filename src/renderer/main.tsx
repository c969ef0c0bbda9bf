import '@xyflow/react/dist/style.css';
import './styles.css';
import { createRoot } from 'react-dom/client';
import { engineClient } from '../protocol/client';
import { App } from './App';
import { HostContext, bridgeFiles, browserFiles } from './host/context';
import { bridge, bridgeTransport, socketTransport } from './host/transport';

// Desktop app: the preload bridge; browser mode: the loopback WebSocket.
const b = bridge();
const host = { engine: engineClient(b ? bridgeTransport(b) : socketTransport()), files: b ? bridgeFiles(b) : browserFiles() };

createRoot(document.getElementById('root')!).render(
  <HostContext.Provider value={host}>
    <App />
  </HostContext.Provider>,
);
