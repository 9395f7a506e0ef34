// Package securitylog records the events of each user's security log
// (sign-ins, failed sign-ins, password and second-factor changes…) and
// removes them after the retention period where the database cannot.
//
// Recording never fails the request that caused an event: Recorder.Record
// returns nothing, and a write it could not make is logged and counted.
// The events themselves are stored by store.SecurityEvents, which MongoDB
// expires by a TTL index; on FerretDB v1, which has none, a Sweeper on
// every instance deletes old events, one instance per period.
package securitylog

// The kinds of event, as stored in store.SecurityEvent.Kind: the values of
// the GraphQL enum SecurityEventKind.
const (
	SignedIn                 = "SIGNED_IN"
	SignInFailed             = "SIGN_IN_FAILED" // a wrong password for an existing account
	SignedOut                = "SIGNED_OUT"
	SessionRevoked           = "SESSION_REVOKED"
	OtherSessionsEnded       = "OTHER_SESSIONS_ENDED"
	PasswordChanged          = "PASSWORD_CHANGED"
	PasswordResetRequested   = "PASSWORD_RESET_REQUESTED"
	PasswordReset            = "PASSWORD_RESET"
	EmailChanged             = "EMAIL_CHANGED"
	EmailVerified            = "EMAIL_VERIFIED"
	TOTPEnabled              = "TOTP_ENABLED"
	TOTPDisabled             = "TOTP_DISABLED"
	RecoveryCodeUsed         = "RECOVERY_CODE_USED"
	RecoveryCodesRegenerated = "RECOVERY_CODES_REGENERATED"
	PasskeyAdded             = "PASSKEY_ADDED"
	PasskeyRemoved           = "PASSKEY_REMOVED"
)

// Kinds lists every kind, in the order of the GraphQL enum.
var Kinds = []string{
	SignedIn, SignInFailed, SignedOut, SessionRevoked, OtherSessionsEnded,
	PasswordChanged, PasswordResetRequested, PasswordReset, EmailChanged, EmailVerified,
	TOTPEnabled, TOTPDisabled, RecoveryCodeUsed, RecoveryCodesRegenerated,
	PasskeyAdded, PasskeyRemoved,
}
