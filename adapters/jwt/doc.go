// Package jwt verifies JWT access tokens for verifykit: a ports.TokenVerifier whose keys
// come from a JWKS URL (an OpenID provider's jwks_uri: Keycloak, Auth0, Entra ID, ...)
// and/or from static public keys.
//
// What a token must be to pass:
//   - a JWS in compact form, at most Config.MaxTokenBytes long;
//   - signed with an algorithm of the allow-list (Config.Algorithms; RS256, ES256 and
//     EdDSA by default), by a key whose type fits that algorithm. The algorithm of the
//     token's header is checked against the list before any key is looked at, and the
//     signature is verified with that algorithm only. "none" and the HMAC algorithms are
//     refused, always: the verifier holds public keys only, and a token "signed" with a
//     public key as an HMAC secret is the classic algorithm-confusion attack;
//   - issued by Config.Issuer ("iss") for Config.Audience ("aud"), both required;
//   - within its times: "exp" (required), "nbf" and "iat", each with Config.Leeway;
//   - of a type meant for access: a header "typ" that is absent, "JWT", or "at+jwt"
//     (RFC 9068). A token that declares "at+jwt" must also carry the claims RFC 9068
//     requires of an access token ("sub", "client_id", "iat", "jti"); Config.RequireATJWT
//     refuses every other type.
//
// The claims are mapped to ports.Claims by Config.Claims (a ClaimMapping, shared with
// adapters/introspection): scopes from "scope" (space-separated) or "scp" (an array), and,
// when configured, the person, the organisation and the permissions from any claim,
// nested ones too ("realm_access.roles" of Keycloak). Claims.ExpiresAt is the token's
// "exp" plus the leeway: the domain keeps deciding expiry with its own clock, and decides
// it as this verifier does.
//
// Keys. The JWKS is fetched on the first token that needs it, then kept. A token naming a
// key id (kid) the verifier does not know makes it fetch the JWKS again — keys rotate —
// but such refreshes are rate-limited (golang.org/x/time/rate): however many tokens with
// made-up key ids arrive, the JWKS is fetched at most once per Config.MinRefreshInterval.
// Keys older than Config.RefreshInterval are refreshed on the next token (a failure keeps
// the keys in hand); Verifier.Run refreshes them on that schedule in the background.
//
// Errors. A token that fails any check gets an *verifykit.Error of KindUnauthorized with
// the message "Invalid access token" (HTTP 401), wrapping ErrInvalidToken and the reason;
// the domain answers it exactly as it answers a token the static table of adapters/memory
// does not know. A JWKS that cannot be fetched when its keys are needed gets a
// KindUnavailable error (HTTP 503), never a 401: the token may well be good. Tokens are
// never logged.
//
// Why github.com/lestrrat-go/jwx/v3: JOSE is easy to get subtly wrong, and jwx is a
// maintained, complete implementation of it — JWK and JWK Sets of every key type (RSA,
// EC, OKP), the JWS algorithms, RFC 7519 claim validation with a clock and skew — with
// explicit-algorithm verification (jws.WithKey with the algorithm we chose, and
// jws.WithAlgorithmMatch), which is what keeps algorithm confusion out. It is the JOSE
// library DESIGN.md names for the adapters, and it stays out of the core packages (a test
// in internal/depcheck checks it). This package adds what jwx leaves to its caller: the
// allow-list, the key cache with a rate-limited refresh, the claim mapping, and
// verifykit's errors.
package jwt
