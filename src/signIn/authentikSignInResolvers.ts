import {
  AuthResolverContext,
  createSignInResolverFactory,
  OAuthAuthenticatorResult,
  SignInInfo,
} from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import { ANNOTATION_USER_PK, ANNOTATION_USER_UID, ANNOTATION_USERNAME } from '../mapping/types';

/**
 * authentik's OAuth2/OIDC provider "Subject mode" (`sub_mode`) and the annotation of this
 * module's User entities that holds the same value.
 */
const SUBJECT_ANNOTATIONS = {
  /** authentik's default: "Based on the Hashed User ID" (the user's `uid`). */
  hashed_user_id: ANNOTATION_USER_UID,
  /** "Based on the User's ID" (the numeric pk). */
  user_id: ANNOTATION_USER_PK,
  /** "Based on the User's username". */
  user_username: ANNOTATION_USERNAME,
} as const;

const optionsSchema = z
  .object({
    subjectMode: z.enum(['hashed_user_id', 'user_id', 'user_username']).default('hashed_user_id'),
  })
  .optional();

const userinfoSchema = z.object({ userinfo: z.object({ sub: z.string().min(1) }).passthrough() }).passthrough();

/** The part of an OIDC sign-in result this resolver reads. */
export type OidcSubjectResult = OAuthAuthenticatorResult<{ userinfo?: { sub?: string } }>;

/**
 * Sign-in resolvers for Backstage's OIDC provider signing in against authentik.
 *
 * `subjectMatchingUserEntityAnnotation` finds the User entity whose authentik identity
 * annotation equals the OIDC `sub` claim. It needs neither an email nor an entity name that
 * survived sanitisation, so it signs in users the email and username resolvers cannot.
 */
export const authentikSignInResolvers = {
  subjectMatchingUserEntityAnnotation: createSignInResolverFactory({
    // Built with `zod/v3`, the zod flavour auth-node's factory is typed against.
    optionsSchema,
    create(options) {
      const annotation = SUBJECT_ANNOTATIONS[options?.subjectMode ?? 'hashed_user_id'];
      return async (info: SignInInfo<OidcSubjectResult>, ctx: AuthResolverContext) => {
        const parsed = userinfoSchema.safeParse(info.result.fullProfile);
        if (!parsed.success) {
          throw new Error('The OIDC sign-in result has no "sub" claim to match an authentik user with');
        }
        return ctx.signInWithCatalogUser({ annotations: { [annotation]: parsed.data.userinfo.sub } });
      };
    },
  }),
};
