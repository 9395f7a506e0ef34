import { gql, type TypedDocumentNode } from "@apollo/client";

export interface User {
  __typename?: "User";
  id: string;
  email: string;
  name: string;
  createdAt: string;
}

export interface Session {
  __typename?: "Session";
  id: string;
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
}

export interface Card {
  __typename?: "Card";
  id: string;
  front: string;
  back: string;
  dueAt: string;
  intervalDays: number;
  ease: number;
  reviews: number;
}

export interface DeckSummary {
  __typename?: "Deck";
  id: string;
  title: string;
  createdAt: string;
  cardCount: number;
  dueCount: number;
}

export interface DeckWithCards extends DeckSummary {
  cards: {
    edges: { cursor: string; node: Card }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const USER_FIELDS = gql`
  fragment UserFields on User {
    id
    email
    name
    createdAt
  }
`;

export const ME: TypedDocumentNode<{ me: User | null }, Record<string, never>> = gql`
  query Me {
    me {
      ...UserFields
    }
  }
  ${USER_FIELDS}
`;

export const REGISTER: TypedDocumentNode<
  { register: User },
  { input: { email: string; password: string; name: string } }
> = gql`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      ...UserFields
    }
  }
  ${USER_FIELDS}
`;

export const LOGIN: TypedDocumentNode<{ login: User }, { input: { email: string; password: string } }> = gql`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      ...UserFields
    }
  }
  ${USER_FIELDS}
`;

export const LOGOUT: TypedDocumentNode<{ logout: boolean }, Record<string, never>> = gql`
  mutation Logout {
    logout
  }
`;

export const SESSIONS: TypedDocumentNode<{ sessions: Session[] }, Record<string, never>> = gql`
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
`;

export const REVOKE_SESSION: TypedDocumentNode<{ revokeSession: boolean }, { id: string }> = gql`
  mutation RevokeSession($id: ID!) {
    revokeSession(id: $id)
  }
`;

export const LOGOUT_OTHER_SESSIONS: TypedDocumentNode<{ logoutOtherSessions: number }, Record<string, never>> = gql`
  mutation LogoutOtherSessions {
    logoutOtherSessions
  }
`;

export const CHANGE_PASSWORD: TypedDocumentNode<
  { changePassword: boolean },
  { input: { currentPassword: string; newPassword: string } }
> = gql`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input)
  }
`;

export const SESSION_ENDED: TypedDocumentNode<{ sessionEnded: { reason: string } }, Record<string, never>> = gql`
  subscription SessionEnded {
    sessionEnded {
      reason
    }
  }
`;

const DECK_FIELDS = gql`
  fragment DeckFields on Deck {
    id
    title
    createdAt
    cardCount
    dueCount
  }
`;

const CARD_FIELDS = gql`
  fragment CardFields on Card {
    id
    front
    back
    dueAt
    intervalDays
    ease
    reviews
  }
`;

export const DECKS: TypedDocumentNode<{ decks: DeckSummary[] }, Record<string, never>> = gql`
  query Decks {
    decks {
      ...DeckFields
    }
  }
  ${DECK_FIELDS}
`;

export const DECK: TypedDocumentNode<{ deck: DeckWithCards | null }, { id: string; first?: number; after?: string | null }> = gql`
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
  ${DECK_FIELDS}
  ${CARD_FIELDS}
`;

export const DUE_CARDS: TypedDocumentNode<{ dueCards: Card[] }, { deckId?: string; limit?: number }> = gql`
  query DueCards($deckId: ID, $limit: Int = 20) {
    dueCards(deckId: $deckId, limit: $limit) {
      ...CardFields
    }
  }
  ${CARD_FIELDS}
`;

export const CREATE_DECK: TypedDocumentNode<{ createDeck: DeckSummary }, { title: string }> = gql`
  mutation CreateDeck($title: String!) {
    createDeck(title: $title) {
      ...DeckFields
    }
  }
  ${DECK_FIELDS}
`;

export const RENAME_DECK: TypedDocumentNode<{ renameDeck: DeckSummary }, { id: string; title: string }> = gql`
  mutation RenameDeck($id: ID!, $title: String!) {
    renameDeck(id: $id, title: $title) {
      ...DeckFields
    }
  }
  ${DECK_FIELDS}
`;

export const DELETE_DECK: TypedDocumentNode<{ deleteDeck: boolean }, { id: string }> = gql`
  mutation DeleteDeck($id: ID!) {
    deleteDeck(id: $id)
  }
`;

export const ADD_CARD: TypedDocumentNode<{ addCard: Card }, { deckId: string; front: string; back: string }> = gql`
  mutation AddCard($deckId: ID!, $front: String!, $back: String!) {
    addCard(deckId: $deckId, front: $front, back: $back) {
      ...CardFields
    }
  }
  ${CARD_FIELDS}
`;

export const UPDATE_CARD: TypedDocumentNode<{ updateCard: Card }, { id: string; front?: string; back?: string }> = gql`
  mutation UpdateCard($id: ID!, $front: String, $back: String) {
    updateCard(id: $id, front: $front, back: $back) {
      ...CardFields
    }
  }
  ${CARD_FIELDS}
`;

export const DELETE_CARD: TypedDocumentNode<{ deleteCard: boolean }, { id: string }> = gql`
  mutation DeleteCard($id: ID!) {
    deleteCard(id: $id)
  }
`;

export const REVIEW_CARD: TypedDocumentNode<{ reviewCard: Card }, { id: string; grade: number }> = gql`
  mutation ReviewCard($id: ID!, $grade: Int!) {
    reviewCard(id: $id, grade: $grade) {
      ...CardFields
    }
  }
  ${CARD_FIELDS}
`;
