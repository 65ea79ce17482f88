/**
 * Where the storefront is. In a browser it is a link; Electron opens no new windows (and
 * navigates nowhere but the app), so there the address is shown to copy into a browser.
 */
export function Storefront({ url }: { url: string }) {
  const inElectron = window.microlab !== undefined;
  return (
    <p className="storefront">
      <span className="muted">Storefront: </span>
      {inElectron ? (
        <>
          <code className="selectable">{url}</code> <span className="muted">(open it in your browser)</span>
        </>
      ) : (
        <a href={url} target="_blank" rel="noreferrer noopener">
          {url}
        </a>
      )}
    </p>
  );
}
