/**
 * Where the storefront is: a link that opens it in a new tab of the browser, or, in Electron,
 * in the user's browser (the main process opens local storefront addresses there).
 */
export function Storefront({ url }: { url: string }) {
  return (
    <p className="storefront">
      <span className="muted">Storefront: </span>
      <a href={url} target="_blank" rel="noreferrer noopener">
        {url}
      </a>
    </p>
  );
}
