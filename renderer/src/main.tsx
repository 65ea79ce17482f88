import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
// React Flow's own stylesheet, bundled into a file by Vite (the CSP allows no inline styles).
import '@xyflow/react/dist/style.css';
import '@xterm/xterm/css/xterm.css';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
