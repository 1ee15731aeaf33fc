import { sha256Hex } from './ids';

/**
 * authentik's default avatar mode ("gravatar,initials"): a Gravatar URL for users with an
 * email, an inline SVG with the user's initials (a `data:` URI) for the others.
 */
export function defaultAvatar(user: { name: string; username: string; email: string }): string {
  if (user.email !== '') {
    // Every page of a 100k walk hashes 100 emails: remember them.
    let url = gravatars.get(user.email);
    if (url === undefined) {
      if (gravatars.size >= MAX_REMEMBERED) gravatars.clear();
      url = `https://www.gravatar.com/avatar/${sha256Hex(user.email.trim().toLowerCase())}?size=158&rating=g&default=404`;
      gravatars.set(user.email, url);
    }
    return url;
  }
  return initialsAvatar(user.name || user.username);
}

const gravatars = new Map<string, string>();
const MAX_REMEMBERED = 500_000;

export function initialsAvatar(displayName: string): string {
  const initials = displayName
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map(word => word[0].toUpperCase())
    .join('');
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">' +
    '<rect width="100" height="100" fill="#3e5b7b"/>' +
    `<text x="50" y="50" dy=".35em" text-anchor="middle" fill="#fff" font-size="40">${escapeXml(initials)}</text>` +
    '</svg>';
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, ch => `&#${ch.charCodeAt(0)};`);
}
