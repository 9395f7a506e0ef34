// Every operation the Apollo app sends. Their result and variable types are
// generated from graph/*.graphqls by GraphQL Code Generator (`npm run codegen`
// writes src/gql/): edit a document here, run codegen, commit both.
import { graphql } from "./gql";
import type {
  CardFieldsFragment,
  DeckFieldsFragment,
  DeckQuery,
  PasskeyFieldsFragment,
  SecurityEventsQuery,
  SessionsQuery,
  UserFieldsFragment,
} from "./gql/graphql";

export type { SecurityEventKind, SessionEndReason } from "./gql/graphql";
export type User = UserFieldsFragment;
export type Session = SessionsQuery["sessions"][number];
export type Card = CardFieldsFragment;
export type DeckSummary = DeckFieldsFragment;
export type DeckWithCards = NonNullable<DeckQuery["deck"]>;
export type SecurityEvent = SecurityEventsQuery["securityEvents"]["edges"][number]["node"];
export type Passkey = PasskeyFieldsFragment;

export const USER_FIELDS = graphql(`
  fragment UserFields on User {
    id
    email
    name
    createdAt
    emailVerified
    totpEnabled
  }
`);

export const ME = graphql(`
  query Me {
    me {
      ...UserFields
    }
  }
`);

export const REGISTER = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      ...UserFields
    }
  }
`);

export const LOGIN = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      ...UserFields
    }
  }
`);

export const LOGOUT = graphql(`
  mutation Logout {
    logout
  }
`);

export const SESSIONS = graphql(`
  query Sessions {
    sessions {
      id
      current
      createdAt
      lastSeenAt
      expiresAt
      userAgent
      ip
    }
  }
`);

export const REVOKE_SESSION = graphql(`
  mutation RevokeSession($id: ID!) {
    revokeSession(id: $id)
  }
`);

export const LOGOUT_OTHER_SESSIONS = graphql(`
  mutation LogoutOtherSessions {
    logoutOtherSessions
  }
`);

export const CHANGE_PASSWORD = graphql(`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input)
  }
`);

export const REQUEST_PASSWORD_RESET = graphql(`
  mutation RequestPasswordReset($email: String!) {
    requestPasswordReset(email: $email)
  }
`);

export const RESET_PASSWORD = graphql(`
  mutation ResetPassword($input: ResetPasswordInput!) {
    resetPassword(input: $input) {
      ...UserFields
    }
  }
`);

export const VERIFY_EMAIL = graphql(`
  mutation VerifyEmail($token: String!) {
    verifyEmail(token: $token) {
      ...UserFields
    }
  }
`);

export const RESEND_VERIFICATION_EMAIL = graphql(`
  mutation ResendVerificationEmail {
    resendVerificationEmail
  }
`);

export const VERIFY_SECOND_FACTOR = graphql(`
  mutation VerifySecondFactor($code: String!) {
    verifySecondFactor(code: $code) {
      ...UserFields
    }
  }
`);

export const BEGIN_TOTP_SETUP = graphql(`
  mutation BeginTotpSetup($currentPassword: String!) {
    beginTotpSetup(currentPassword: $currentPassword) {
      secret
      uri
      qrCode
    }
  }
`);

export const CONFIRM_TOTP_SETUP = graphql(`
  mutation ConfirmTotpSetup($code: String!) {
    confirmTotpSetup(code: $code)
  }
`);

export const DISABLE_TOTP = graphql(`
  mutation DisableTotp($currentPassword: String!, $code: String!) {
    disableTotp(currentPassword: $currentPassword, code: $code)
  }
`);

export const REGENERATE_RECOVERY_CODES = graphql(`
  mutation RegenerateRecoveryCodes($currentPassword: String!) {
    regenerateRecoveryCodes(currentPassword: $currentPassword)
  }
`);

export const SECURITY_EVENTS = graphql(`
  query SecurityEvents($first: Int = 20, $after: String) {
    securityEvents(first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          kind
          at
          ip
          userAgent
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const PASSKEY_FIELDS = graphql(`
  fragment PasskeyFields on Passkey {
    id
    name
    createdAt
    lastUsedAt
  }
`);

export const PASSKEYS = graphql(`
  query Passkeys {
    passkeys {
      ...PasskeyFields
    }
  }
`);

export const BEGIN_PASSKEY_REGISTRATION = graphql(`
  mutation BeginPasskeyRegistration {
    beginPasskeyRegistration
  }
`);

export const FINISH_PASSKEY_REGISTRATION = graphql(`
  mutation FinishPasskeyRegistration($name: String!, $credential: JSON!) {
    finishPasskeyRegistration(name: $name, credential: $credential) {
      ...PasskeyFields
    }
  }
`);

export const REMOVE_PASSKEY = graphql(`
  mutation RemovePasskey($id: ID!) {
    removePasskey(id: $id)
  }
`);

export const BEGIN_PASSKEY_SIGN_IN = graphql(`
  mutation BeginPasskeySignIn {
    beginPasskeySignIn
  }
`);

export const FINISH_PASSKEY_SIGN_IN = graphql(`
  mutation FinishPasskeySignIn($credential: JSON!) {
    finishPasskeySignIn(credential: $credential) {
      ...UserFields
    }
  }
`);

export const SESSION_ENDED = graphql(`
  subscription SessionEnded {
    sessionEnded {
      reason
    }
  }
`);

export const DECK_FIELDS = graphql(`
  fragment DeckFields on Deck {
    id
    title
    createdAt
    cardCount
    dueCount
  }
`);

export const CARD_FIELDS = graphql(`
  fragment CardFields on Card {
    id
    front
    back
    dueAt
    intervalDays
    ease
    reviews
  }
`);

export const DECKS = graphql(`
  query Decks {
    decks {
      ...DeckFields
    }
  }
`);

export const DECK = graphql(`
  query Deck($id: ID!, $first: Int = 50, $after: String) {
    deck(id: $id) {
      ...DeckFields
      cards(first: $first, after: $after) {
        edges {
          cursor
          node {
            ...CardFields
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

export const DUE_CARDS = graphql(`
  query DueCards($deckId: ID, $limit: Int = 20) {
    dueCards(deckId: $deckId, limit: $limit) {
      ...CardFields
    }
  }
`);

export const CREATE_DECK = graphql(`
  mutation CreateDeck($title: String!) {
    createDeck(title: $title) {
      ...DeckFields
    }
  }
`);

export const RENAME_DECK = graphql(`
  mutation RenameDeck($id: ID!, $title: String!) {
    renameDeck(id: $id, title: $title) {
      ...DeckFields
    }
  }
`);

export const DELETE_DECK = graphql(`
  mutation DeleteDeck($id: ID!) {
    deleteDeck(id: $id)
  }
`);

export const ADD_CARD = graphql(`
  mutation AddCard($deckId: ID!, $front: String!, $back: String!) {
    addCard(deckId: $deckId, front: $front, back: $back) {
      ...CardFields
    }
  }
`);

export const UPDATE_CARD = graphql(`
  mutation UpdateCard($id: ID!, $front: String, $back: String) {
    updateCard(id: $id, front: $front, back: $back) {
      ...CardFields
    }
  }
`);

export const DELETE_CARD = graphql(`
  mutation DeleteCard($id: ID!) {
    deleteCard(id: $id)
  }
`);

export const REVIEW_CARD = graphql(`
  mutation ReviewCard($id: ID!, $grade: Int!) {
    reviewCard(id: $id, grade: $grade) {
      ...CardFields
    }
  }
`);
