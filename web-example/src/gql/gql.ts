/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment UserFields on User {\n    id\n    email\n    name\n    createdAt\n    emailVerified\n    totpEnabled\n  }\n": typeof types.UserFieldsFragmentDoc,
    "\n  query Me {\n    me {\n      ...UserFields\n    }\n  }\n": typeof types.MeDocument,
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      ...UserFields\n    }\n  }\n": typeof types.RegisterDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...UserFields\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation Logout {\n    logout\n  }\n": typeof types.LogoutDocument,
    "\n  query Sessions {\n    sessions {\n      id\n      current\n      createdAt\n      lastSeenAt\n      expiresAt\n      userAgent\n      ip\n    }\n  }\n": typeof types.SessionsDocument,
    "\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n": typeof types.RevokeSessionDocument,
    "\n  mutation LogoutOtherSessions {\n    logoutOtherSessions\n  }\n": typeof types.LogoutOtherSessionsDocument,
    "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input)\n  }\n": typeof types.ChangePasswordDocument,
    "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n": typeof types.RequestPasswordResetDocument,
    "\n  mutation ResetPassword($input: ResetPasswordInput!) {\n    resetPassword(input: $input) {\n      ...UserFields\n    }\n  }\n": typeof types.ResetPasswordDocument,
    "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      ...UserFields\n    }\n  }\n": typeof types.VerifyEmailDocument,
    "\n  mutation ResendVerificationEmail {\n    resendVerificationEmail\n  }\n": typeof types.ResendVerificationEmailDocument,
    "\n  mutation VerifySecondFactor($code: String!) {\n    verifySecondFactor(code: $code) {\n      ...UserFields\n    }\n  }\n": typeof types.VerifySecondFactorDocument,
    "\n  mutation BeginTotpSetup($currentPassword: String!) {\n    beginTotpSetup(currentPassword: $currentPassword) {\n      secret\n      uri\n      qrCode\n    }\n  }\n": typeof types.BeginTotpSetupDocument,
    "\n  mutation ConfirmTotpSetup($code: String!) {\n    confirmTotpSetup(code: $code)\n  }\n": typeof types.ConfirmTotpSetupDocument,
    "\n  mutation DisableTotp($currentPassword: String!, $code: String!) {\n    disableTotp(currentPassword: $currentPassword, code: $code)\n  }\n": typeof types.DisableTotpDocument,
    "\n  mutation RegenerateRecoveryCodes($currentPassword: String!) {\n    regenerateRecoveryCodes(currentPassword: $currentPassword)\n  }\n": typeof types.RegenerateRecoveryCodesDocument,
    "\n  query SecurityEvents($first: Int = 20, $after: String) {\n    securityEvents(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          kind\n          at\n          ip\n          userAgent\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.SecurityEventsDocument,
    "\n  fragment PasskeyFields on Passkey {\n    id\n    name\n    createdAt\n    lastUsedAt\n  }\n": typeof types.PasskeyFieldsFragmentDoc,
    "\n  query Passkeys {\n    passkeys {\n      ...PasskeyFields\n    }\n  }\n": typeof types.PasskeysDocument,
    "\n  mutation BeginPasskeyRegistration {\n    beginPasskeyRegistration\n  }\n": typeof types.BeginPasskeyRegistrationDocument,
    "\n  mutation FinishPasskeyRegistration($name: String!, $credential: JSON!) {\n    finishPasskeyRegistration(name: $name, credential: $credential) {\n      ...PasskeyFields\n    }\n  }\n": typeof types.FinishPasskeyRegistrationDocument,
    "\n  mutation RemovePasskey($id: ID!) {\n    removePasskey(id: $id)\n  }\n": typeof types.RemovePasskeyDocument,
    "\n  mutation BeginPasskeySignIn {\n    beginPasskeySignIn\n  }\n": typeof types.BeginPasskeySignInDocument,
    "\n  mutation FinishPasskeySignIn($credential: JSON!) {\n    finishPasskeySignIn(credential: $credential) {\n      ...UserFields\n    }\n  }\n": typeof types.FinishPasskeySignInDocument,
    "\n  subscription SessionEnded {\n    sessionEnded {\n      reason\n    }\n  }\n": typeof types.SessionEndedDocument,
    "\n  fragment DeckFields on Deck {\n    id\n    title\n    createdAt\n    cardCount\n    dueCount\n  }\n": typeof types.DeckFieldsFragmentDoc,
    "\n  fragment CardFields on Card {\n    id\n    front\n    back\n    dueAt\n    intervalDays\n    ease\n    reviews\n  }\n": typeof types.CardFieldsFragmentDoc,
    "\n  query Decks {\n    decks {\n      ...DeckFields\n    }\n  }\n": typeof types.DecksDocument,
    "\n  query Deck($id: ID!, $first: Int = 50, $after: String) {\n    deck(id: $id) {\n      ...DeckFields\n      cards(first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            ...CardFields\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.DeckDocument,
    "\n  query DueCards($deckId: ID, $limit: Int = 20) {\n    dueCards(deckId: $deckId, limit: $limit) {\n      ...CardFields\n    }\n  }\n": typeof types.DueCardsDocument,
    "\n  mutation CreateDeck($title: String!) {\n    createDeck(title: $title) {\n      ...DeckFields\n    }\n  }\n": typeof types.CreateDeckDocument,
    "\n  mutation RenameDeck($id: ID!, $title: String!) {\n    renameDeck(id: $id, title: $title) {\n      ...DeckFields\n    }\n  }\n": typeof types.RenameDeckDocument,
    "\n  mutation DeleteDeck($id: ID!) {\n    deleteDeck(id: $id)\n  }\n": typeof types.DeleteDeckDocument,
    "\n  mutation AddCard($deckId: ID!, $front: String!, $back: String!) {\n    addCard(deckId: $deckId, front: $front, back: $back) {\n      ...CardFields\n    }\n  }\n": typeof types.AddCardDocument,
    "\n  mutation UpdateCard($id: ID!, $front: String, $back: String) {\n    updateCard(id: $id, front: $front, back: $back) {\n      ...CardFields\n    }\n  }\n": typeof types.UpdateCardDocument,
    "\n  mutation DeleteCard($id: ID!) {\n    deleteCard(id: $id)\n  }\n": typeof types.DeleteCardDocument,
    "\n  mutation ReviewCard($id: ID!, $grade: Int!) {\n    reviewCard(id: $id, grade: $grade) {\n      ...CardFields\n    }\n  }\n": typeof types.ReviewCardDocument,
    "\n  query UrqlMe {\n    me {\n      id\n      email\n      name\n      emailVerified\n    }\n  }\n": typeof types.UrqlMeDocument,
    "\n  mutation UrqlLogin($input: LoginInput!) {\n    login(input: $input) {\n      id\n      email\n      name\n    }\n  }\n": typeof types.UrqlLoginDocument,
    "\n  mutation UrqlVerifySecondFactor($code: String!) {\n    verifySecondFactor(code: $code) {\n      id\n      email\n      name\n    }\n  }\n": typeof types.UrqlVerifySecondFactorDocument,
    "\n  mutation UrqlBeginPasskeySignIn {\n    beginPasskeySignIn\n  }\n": typeof types.UrqlBeginPasskeySignInDocument,
    "\n  mutation UrqlFinishPasskeySignIn($credential: JSON!) {\n    finishPasskeySignIn(credential: $credential) {\n      id\n      email\n      name\n    }\n  }\n": typeof types.UrqlFinishPasskeySignInDocument,
    "\n  mutation UrqlLogout {\n    logout\n  }\n": typeof types.UrqlLogoutDocument,
    "\n  mutation UrqlResendVerificationEmail {\n    resendVerificationEmail\n  }\n": typeof types.UrqlResendVerificationEmailDocument,
};
const documents: Documents = {
    "\n  fragment UserFields on User {\n    id\n    email\n    name\n    createdAt\n    emailVerified\n    totpEnabled\n  }\n": types.UserFieldsFragmentDoc,
    "\n  query Me {\n    me {\n      ...UserFields\n    }\n  }\n": types.MeDocument,
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      ...UserFields\n    }\n  }\n": types.RegisterDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...UserFields\n    }\n  }\n": types.LoginDocument,
    "\n  mutation Logout {\n    logout\n  }\n": types.LogoutDocument,
    "\n  query Sessions {\n    sessions {\n      id\n      current\n      createdAt\n      lastSeenAt\n      expiresAt\n      userAgent\n      ip\n    }\n  }\n": types.SessionsDocument,
    "\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n": types.RevokeSessionDocument,
    "\n  mutation LogoutOtherSessions {\n    logoutOtherSessions\n  }\n": types.LogoutOtherSessionsDocument,
    "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input)\n  }\n": types.ChangePasswordDocument,
    "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n": types.RequestPasswordResetDocument,
    "\n  mutation ResetPassword($input: ResetPasswordInput!) {\n    resetPassword(input: $input) {\n      ...UserFields\n    }\n  }\n": types.ResetPasswordDocument,
    "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      ...UserFields\n    }\n  }\n": types.VerifyEmailDocument,
    "\n  mutation ResendVerificationEmail {\n    resendVerificationEmail\n  }\n": types.ResendVerificationEmailDocument,
    "\n  mutation VerifySecondFactor($code: String!) {\n    verifySecondFactor(code: $code) {\n      ...UserFields\n    }\n  }\n": types.VerifySecondFactorDocument,
    "\n  mutation BeginTotpSetup($currentPassword: String!) {\n    beginTotpSetup(currentPassword: $currentPassword) {\n      secret\n      uri\n      qrCode\n    }\n  }\n": types.BeginTotpSetupDocument,
    "\n  mutation ConfirmTotpSetup($code: String!) {\n    confirmTotpSetup(code: $code)\n  }\n": types.ConfirmTotpSetupDocument,
    "\n  mutation DisableTotp($currentPassword: String!, $code: String!) {\n    disableTotp(currentPassword: $currentPassword, code: $code)\n  }\n": types.DisableTotpDocument,
    "\n  mutation RegenerateRecoveryCodes($currentPassword: String!) {\n    regenerateRecoveryCodes(currentPassword: $currentPassword)\n  }\n": types.RegenerateRecoveryCodesDocument,
    "\n  query SecurityEvents($first: Int = 20, $after: String) {\n    securityEvents(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          kind\n          at\n          ip\n          userAgent\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.SecurityEventsDocument,
    "\n  fragment PasskeyFields on Passkey {\n    id\n    name\n    createdAt\n    lastUsedAt\n  }\n": types.PasskeyFieldsFragmentDoc,
    "\n  query Passkeys {\n    passkeys {\n      ...PasskeyFields\n    }\n  }\n": types.PasskeysDocument,
    "\n  mutation BeginPasskeyRegistration {\n    beginPasskeyRegistration\n  }\n": types.BeginPasskeyRegistrationDocument,
    "\n  mutation FinishPasskeyRegistration($name: String!, $credential: JSON!) {\n    finishPasskeyRegistration(name: $name, credential: $credential) {\n      ...PasskeyFields\n    }\n  }\n": types.FinishPasskeyRegistrationDocument,
    "\n  mutation RemovePasskey($id: ID!) {\n    removePasskey(id: $id)\n  }\n": types.RemovePasskeyDocument,
    "\n  mutation BeginPasskeySignIn {\n    beginPasskeySignIn\n  }\n": types.BeginPasskeySignInDocument,
    "\n  mutation FinishPasskeySignIn($credential: JSON!) {\n    finishPasskeySignIn(credential: $credential) {\n      ...UserFields\n    }\n  }\n": types.FinishPasskeySignInDocument,
    "\n  subscription SessionEnded {\n    sessionEnded {\n      reason\n    }\n  }\n": types.SessionEndedDocument,
    "\n  fragment DeckFields on Deck {\n    id\n    title\n    createdAt\n    cardCount\n    dueCount\n  }\n": types.DeckFieldsFragmentDoc,
    "\n  fragment CardFields on Card {\n    id\n    front\n    back\n    dueAt\n    intervalDays\n    ease\n    reviews\n  }\n": types.CardFieldsFragmentDoc,
    "\n  query Decks {\n    decks {\n      ...DeckFields\n    }\n  }\n": types.DecksDocument,
    "\n  query Deck($id: ID!, $first: Int = 50, $after: String) {\n    deck(id: $id) {\n      ...DeckFields\n      cards(first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            ...CardFields\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.DeckDocument,
    "\n  query DueCards($deckId: ID, $limit: Int = 20) {\n    dueCards(deckId: $deckId, limit: $limit) {\n      ...CardFields\n    }\n  }\n": types.DueCardsDocument,
    "\n  mutation CreateDeck($title: String!) {\n    createDeck(title: $title) {\n      ...DeckFields\n    }\n  }\n": types.CreateDeckDocument,
    "\n  mutation RenameDeck($id: ID!, $title: String!) {\n    renameDeck(id: $id, title: $title) {\n      ...DeckFields\n    }\n  }\n": types.RenameDeckDocument,
    "\n  mutation DeleteDeck($id: ID!) {\n    deleteDeck(id: $id)\n  }\n": types.DeleteDeckDocument,
    "\n  mutation AddCard($deckId: ID!, $front: String!, $back: String!) {\n    addCard(deckId: $deckId, front: $front, back: $back) {\n      ...CardFields\n    }\n  }\n": types.AddCardDocument,
    "\n  mutation UpdateCard($id: ID!, $front: String, $back: String) {\n    updateCard(id: $id, front: $front, back: $back) {\n      ...CardFields\n    }\n  }\n": types.UpdateCardDocument,
    "\n  mutation DeleteCard($id: ID!) {\n    deleteCard(id: $id)\n  }\n": types.DeleteCardDocument,
    "\n  mutation ReviewCard($id: ID!, $grade: Int!) {\n    reviewCard(id: $id, grade: $grade) {\n      ...CardFields\n    }\n  }\n": types.ReviewCardDocument,
    "\n  query UrqlMe {\n    me {\n      id\n      email\n      name\n      emailVerified\n    }\n  }\n": types.UrqlMeDocument,
    "\n  mutation UrqlLogin($input: LoginInput!) {\n    login(input: $input) {\n      id\n      email\n      name\n    }\n  }\n": types.UrqlLoginDocument,
    "\n  mutation UrqlVerifySecondFactor($code: String!) {\n    verifySecondFactor(code: $code) {\n      id\n      email\n      name\n    }\n  }\n": types.UrqlVerifySecondFactorDocument,
    "\n  mutation UrqlBeginPasskeySignIn {\n    beginPasskeySignIn\n  }\n": types.UrqlBeginPasskeySignInDocument,
    "\n  mutation UrqlFinishPasskeySignIn($credential: JSON!) {\n    finishPasskeySignIn(credential: $credential) {\n      id\n      email\n      name\n    }\n  }\n": types.UrqlFinishPasskeySignInDocument,
    "\n  mutation UrqlLogout {\n    logout\n  }\n": types.UrqlLogoutDocument,
    "\n  mutation UrqlResendVerificationEmail {\n    resendVerificationEmail\n  }\n": types.UrqlResendVerificationEmailDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment UserFields on User {\n    id\n    email\n    name\n    createdAt\n    emailVerified\n    totpEnabled\n  }\n"): (typeof documents)["\n  fragment UserFields on User {\n    id\n    email\n    name\n    createdAt\n    emailVerified\n    totpEnabled\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      ...UserFields\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      ...UserFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      ...UserFields\n    }\n  }\n"): (typeof documents)["\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      ...UserFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...UserFields\n    }\n  }\n"): (typeof documents)["\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...UserFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout {\n    logout\n  }\n"): (typeof documents)["\n  mutation Logout {\n    logout\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Sessions {\n    sessions {\n      id\n      current\n      createdAt\n      lastSeenAt\n      expiresAt\n      userAgent\n      ip\n    }\n  }\n"): (typeof documents)["\n  query Sessions {\n    sessions {\n      id\n      current\n      createdAt\n      lastSeenAt\n      expiresAt\n      userAgent\n      ip\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n"): (typeof documents)["\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LogoutOtherSessions {\n    logoutOtherSessions\n  }\n"): (typeof documents)["\n  mutation LogoutOtherSessions {\n    logoutOtherSessions\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input)\n  }\n"): (typeof documents)["\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n"): (typeof documents)["\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetPassword($input: ResetPasswordInput!) {\n    resetPassword(input: $input) {\n      ...UserFields\n    }\n  }\n"): (typeof documents)["\n  mutation ResetPassword($input: ResetPasswordInput!) {\n    resetPassword(input: $input) {\n      ...UserFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      ...UserFields\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      ...UserFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResendVerificationEmail {\n    resendVerificationEmail\n  }\n"): (typeof documents)["\n  mutation ResendVerificationEmail {\n    resendVerificationEmail\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifySecondFactor($code: String!) {\n    verifySecondFactor(code: $code) {\n      ...UserFields\n    }\n  }\n"): (typeof documents)["\n  mutation VerifySecondFactor($code: String!) {\n    verifySecondFactor(code: $code) {\n      ...UserFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation BeginTotpSetup($currentPassword: String!) {\n    beginTotpSetup(currentPassword: $currentPassword) {\n      secret\n      uri\n      qrCode\n    }\n  }\n"): (typeof documents)["\n  mutation BeginTotpSetup($currentPassword: String!) {\n    beginTotpSetup(currentPassword: $currentPassword) {\n      secret\n      uri\n      qrCode\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConfirmTotpSetup($code: String!) {\n    confirmTotpSetup(code: $code)\n  }\n"): (typeof documents)["\n  mutation ConfirmTotpSetup($code: String!) {\n    confirmTotpSetup(code: $code)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DisableTotp($currentPassword: String!, $code: String!) {\n    disableTotp(currentPassword: $currentPassword, code: $code)\n  }\n"): (typeof documents)["\n  mutation DisableTotp($currentPassword: String!, $code: String!) {\n    disableTotp(currentPassword: $currentPassword, code: $code)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegenerateRecoveryCodes($currentPassword: String!) {\n    regenerateRecoveryCodes(currentPassword: $currentPassword)\n  }\n"): (typeof documents)["\n  mutation RegenerateRecoveryCodes($currentPassword: String!) {\n    regenerateRecoveryCodes(currentPassword: $currentPassword)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SecurityEvents($first: Int = 20, $after: String) {\n    securityEvents(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          kind\n          at\n          ip\n          userAgent\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query SecurityEvents($first: Int = 20, $after: String) {\n    securityEvents(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          kind\n          at\n          ip\n          userAgent\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PasskeyFields on Passkey {\n    id\n    name\n    createdAt\n    lastUsedAt\n  }\n"): (typeof documents)["\n  fragment PasskeyFields on Passkey {\n    id\n    name\n    createdAt\n    lastUsedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Passkeys {\n    passkeys {\n      ...PasskeyFields\n    }\n  }\n"): (typeof documents)["\n  query Passkeys {\n    passkeys {\n      ...PasskeyFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation BeginPasskeyRegistration {\n    beginPasskeyRegistration\n  }\n"): (typeof documents)["\n  mutation BeginPasskeyRegistration {\n    beginPasskeyRegistration\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation FinishPasskeyRegistration($name: String!, $credential: JSON!) {\n    finishPasskeyRegistration(name: $name, credential: $credential) {\n      ...PasskeyFields\n    }\n  }\n"): (typeof documents)["\n  mutation FinishPasskeyRegistration($name: String!, $credential: JSON!) {\n    finishPasskeyRegistration(name: $name, credential: $credential) {\n      ...PasskeyFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemovePasskey($id: ID!) {\n    removePasskey(id: $id)\n  }\n"): (typeof documents)["\n  mutation RemovePasskey($id: ID!) {\n    removePasskey(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation BeginPasskeySignIn {\n    beginPasskeySignIn\n  }\n"): (typeof documents)["\n  mutation BeginPasskeySignIn {\n    beginPasskeySignIn\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation FinishPasskeySignIn($credential: JSON!) {\n    finishPasskeySignIn(credential: $credential) {\n      ...UserFields\n    }\n  }\n"): (typeof documents)["\n  mutation FinishPasskeySignIn($credential: JSON!) {\n    finishPasskeySignIn(credential: $credential) {\n      ...UserFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription SessionEnded {\n    sessionEnded {\n      reason\n    }\n  }\n"): (typeof documents)["\n  subscription SessionEnded {\n    sessionEnded {\n      reason\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DeckFields on Deck {\n    id\n    title\n    createdAt\n    cardCount\n    dueCount\n  }\n"): (typeof documents)["\n  fragment DeckFields on Deck {\n    id\n    title\n    createdAt\n    cardCount\n    dueCount\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CardFields on Card {\n    id\n    front\n    back\n    dueAt\n    intervalDays\n    ease\n    reviews\n  }\n"): (typeof documents)["\n  fragment CardFields on Card {\n    id\n    front\n    back\n    dueAt\n    intervalDays\n    ease\n    reviews\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Decks {\n    decks {\n      ...DeckFields\n    }\n  }\n"): (typeof documents)["\n  query Decks {\n    decks {\n      ...DeckFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Deck($id: ID!, $first: Int = 50, $after: String) {\n    deck(id: $id) {\n      ...DeckFields\n      cards(first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            ...CardFields\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Deck($id: ID!, $first: Int = 50, $after: String) {\n    deck(id: $id) {\n      ...DeckFields\n      cards(first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            ...CardFields\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DueCards($deckId: ID, $limit: Int = 20) {\n    dueCards(deckId: $deckId, limit: $limit) {\n      ...CardFields\n    }\n  }\n"): (typeof documents)["\n  query DueCards($deckId: ID, $limit: Int = 20) {\n    dueCards(deckId: $deckId, limit: $limit) {\n      ...CardFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateDeck($title: String!) {\n    createDeck(title: $title) {\n      ...DeckFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateDeck($title: String!) {\n    createDeck(title: $title) {\n      ...DeckFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RenameDeck($id: ID!, $title: String!) {\n    renameDeck(id: $id, title: $title) {\n      ...DeckFields\n    }\n  }\n"): (typeof documents)["\n  mutation RenameDeck($id: ID!, $title: String!) {\n    renameDeck(id: $id, title: $title) {\n      ...DeckFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteDeck($id: ID!) {\n    deleteDeck(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteDeck($id: ID!) {\n    deleteDeck(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddCard($deckId: ID!, $front: String!, $back: String!) {\n    addCard(deckId: $deckId, front: $front, back: $back) {\n      ...CardFields\n    }\n  }\n"): (typeof documents)["\n  mutation AddCard($deckId: ID!, $front: String!, $back: String!) {\n    addCard(deckId: $deckId, front: $front, back: $back) {\n      ...CardFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateCard($id: ID!, $front: String, $back: String) {\n    updateCard(id: $id, front: $front, back: $back) {\n      ...CardFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateCard($id: ID!, $front: String, $back: String) {\n    updateCard(id: $id, front: $front, back: $back) {\n      ...CardFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteCard($id: ID!) {\n    deleteCard(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteCard($id: ID!) {\n    deleteCard(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReviewCard($id: ID!, $grade: Int!) {\n    reviewCard(id: $id, grade: $grade) {\n      ...CardFields\n    }\n  }\n"): (typeof documents)["\n  mutation ReviewCard($id: ID!, $grade: Int!) {\n    reviewCard(id: $id, grade: $grade) {\n      ...CardFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UrqlMe {\n    me {\n      id\n      email\n      name\n      emailVerified\n    }\n  }\n"): (typeof documents)["\n  query UrqlMe {\n    me {\n      id\n      email\n      name\n      emailVerified\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UrqlLogin($input: LoginInput!) {\n    login(input: $input) {\n      id\n      email\n      name\n    }\n  }\n"): (typeof documents)["\n  mutation UrqlLogin($input: LoginInput!) {\n    login(input: $input) {\n      id\n      email\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UrqlVerifySecondFactor($code: String!) {\n    verifySecondFactor(code: $code) {\n      id\n      email\n      name\n    }\n  }\n"): (typeof documents)["\n  mutation UrqlVerifySecondFactor($code: String!) {\n    verifySecondFactor(code: $code) {\n      id\n      email\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UrqlBeginPasskeySignIn {\n    beginPasskeySignIn\n  }\n"): (typeof documents)["\n  mutation UrqlBeginPasskeySignIn {\n    beginPasskeySignIn\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UrqlFinishPasskeySignIn($credential: JSON!) {\n    finishPasskeySignIn(credential: $credential) {\n      id\n      email\n      name\n    }\n  }\n"): (typeof documents)["\n  mutation UrqlFinishPasskeySignIn($credential: JSON!) {\n    finishPasskeySignIn(credential: $credential) {\n      id\n      email\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UrqlLogout {\n    logout\n  }\n"): (typeof documents)["\n  mutation UrqlLogout {\n    logout\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UrqlResendVerificationEmail {\n    resendVerificationEmail\n  }\n"): (typeof documents)["\n  mutation UrqlResendVerificationEmail {\n    resendVerificationEmail\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;