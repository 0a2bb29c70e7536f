// Bearer token check for FHIR and bulk endpoints when the sandbox requires auth (INF-C-05 on the
// client side: a connector must actually send the token it obtained).
import { FhirHttpError } from '../fhir/outcome';
import type { IssuedToken, TokenStore } from './token-store';

export function requireBearer(tokens: TokenStore, authorization: string | null | undefined): IssuedToken {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1]) throw FhirHttpError.unauthorized('A bearer access token is required');
  const token = tokens.verify(match[1]);
  if (!token) throw FhirHttpError.unauthorized('The access token is invalid or has expired');
  return token;
}
