package account

import (
	"math"
	"regexp"
	"sort"
	"strings"
	"unicode/utf16"

	"github.com/trustelem/zxcvbn/match"
	"github.com/trustelem/zxcvbn/matching"
	"github.com/trustelem/zxcvbn/scoring"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"

	"github.com/sessiongql/server/internal/apperr"
)

// CheckNewPassword applies the rules for a password being set (register,
// change, reset) to the input named field: CheckPassword, then a zxcvbn
// 4.4.2 score of at least minScore (0 to 4; 0 refuses nothing on
// strength) for NormalizePassword's form, with exactly email and name as
// the user inputs. The web app's zxcvbn@4.4.2 npm package reaches the same
// score when given the NFC form and the same two inputs
// (testdata/zxcvbn-4.4.2-scores.json). A refusal says why in words taken
// from zxcvbn's feedback and never repeats the password. Existing
// passwords keep working: sign-in does not score them.
//
// The estimate is CPU work on at most MaxPasswordBytes bytes: about a
// millisecond, but up to some 300 ms for a password dense in l33t
// characters such as "4@8({[<3691!|7705$5+7%2" repeated (zxcvbn tries
// every substitution; the npm package takes seconds on it), so call it
// behind rate limiting.
func CheckNewPassword(field, password string, minScore int, email, name string) error {
	if err := CheckPassword(field, password); err != nil {
		return err
	}
	if minScore <= 0 {
		return nil
	}
	units := utf16.Encode([]rune(NormalizePassword(password)))
	r := estimateStrength(units, []string{email, name})
	if score := guessesToScore(r.Guesses); score < minScore {
		return apperr.Input(field, weakPasswordMessage(strengthFeedback(score, r.Sequence, units)))
	}
	return nil
}

// weakPasswordMessage says in one or two sentences why a password is too
// weak: zxcvbn's warning or, lacking one, its first remark on the match
// (capitalization, reversal, substitutions), then its first suggestion.
func weakPasswordMessage(f feedback) string {
	reason := f.warning
	if reason == "" && len(f.suggestions) > 1 {
		reason = f.suggestions[1]
	}
	msg := "Password is too easy to guess"
	if reason != "" {
		msg += ": " + strings.ToLower(reason[:1]) + reason[1:]
	}
	return msg + ". Add another word or two; uncommon words are better."
}

// feedback is zxcvbn's result.feedback.
type feedback struct {
	warning     string
	suggestions []string
}

const (
	addAnotherWord = "Add another word or two. Uncommon words are better."
	// userInputWarning is this project's one addition to zxcvbn's
	// feedback, which says nothing about a match of the user inputs.
	userInputWarning = "This contains your email or name"
)

// The patterns of zxcvbn's scoring.START_UPPER and ALL_UPPER.
var (
	startUpper = regexp.MustCompile(`^[A-Z][^A-Z]+$`)
	allUpper   = regexp.MustCompile(`^[^a-z]+$`)
)

// strengthFeedback ports get_feedback of zxcvbn 4.4.2's feedback.coffee:
// the feedback on the longest match of sequence, none for a score above 2.
// password is what sequence was found in, as UTF-16 code units.
func strengthFeedback(score int, sequence []*match.Match, password []uint16) feedback {
	if len(sequence) == 0 {
		return feedback{suggestions: []string{
			"Use a few words, avoid common phrases",
			"No need for symbols, digits, or uppercase letters",
		}}
	}
	if score > 2 {
		return feedback{}
	}
	longest := sequence[0]
	for _, m := range sequence[1:] {
		if m.J-m.I > longest.J-longest.I {
			longest = m
		}
	}
	f := matchFeedback(longest, len(sequence) == 1, password)
	f.suggestions = append([]string{addAnotherWord}, f.suggestions...)
	return f
}

// matchFeedback ports get_match_feedback; bruteforce matches get none.
func matchFeedback(m *match.Match, isSoleMatch bool, password []uint16) feedback {
	switch m.Pattern {
	case "dictionary":
		return dictionaryMatchFeedback(m, isSoleMatch, password)
	case "spatial":
		w := "Short keyboard patterns are easy to guess"
		if m.Turns == 1 {
			w = "Straight rows of keys are easy to guess"
		}
		return feedback{w, []string{"Use a longer keyboard pattern with more turns"}}
	case "repeat":
		w := `Repeats like "abcabcabc" are only slightly harder to guess than "abc"`
		if len(m.BaseToken) == 1 { // one byte per code unit (unitView.exact)
			w = `Repeats like "aaa" are easy to guess`
		}
		return feedback{w, []string{"Avoid repeated words and characters"}}
	case "sequence":
		return feedback{"Sequences like abc or 6543 are easy to guess", []string{"Avoid sequences"}}
	case "regex":
		if m.RegexName == "recent_year" {
			return feedback{"Recent years are easy to guess", []string{"Avoid recent years", "Avoid years that are associated with you"}}
		}
	case "date":
		return feedback{"Dates are often easy to guess", []string{"Avoid dates and years that are associated with you"}}
	}
	return feedback{}
}

// dictionaryMatchFeedback ports get_dictionary_match_feedback, plus
// userInputWarning for a match of the email or name.
func dictionaryMatchFeedback(m *match.Match, isSoleMatch bool, password []uint16) feedback {
	var f feedback
	switch m.DictionaryName {
	case "passwords":
		switch {
		case isSoleMatch && !m.L33t && !m.Reversed && m.Rank <= 10:
			f.warning = "This is a top-10 common password"
		case isSoleMatch && !m.L33t && !m.Reversed && m.Rank <= 100:
			f.warning = "This is a top-100 common password"
		case isSoleMatch && !m.L33t && !m.Reversed:
			f.warning = "This is a very common password"
		case math.Log(m.Guesses)/math.Log(10) <= 4: // scoring.coffee's guesses_log10
			f.warning = "This is similar to a commonly used password"
		}
	case "english_wikipedia":
		if isSoleMatch {
			f.warning = "A word by itself is easy to guess"
		}
	case "surnames", "male_names", "female_names":
		f.warning = "Common names and surnames are easy to guess"
		if isSoleMatch {
			f.warning = "Names and surnames by themselves are easy to guess"
		}
	case "user_inputs":
		f.warning = userInputWarning
	}
	switch word := string(utf16.Decode(password[m.I : m.J+1])); {
	case startUpper.MatchString(word):
		f.suggestions = append(f.suggestions, "Capitalization doesn't help very much")
	case allUpper.MatchString(word) && jsLower(word) != word:
		f.suggestions = append(f.suggestions, "All-uppercase is almost as easy to guess as all-lowercase")
	}
	if m.Reversed && m.J-m.I+1 >= 4 {
		f.suggestions = append(f.suggestions, "Reversed words aren't much harder to guess")
	}
	if m.L33t {
		f.suggestions = append(f.suggestions, "Predictable substitutions like '@' instead of 'a' don't help very much")
	}
	return f
}

// The estimate. github.com/trustelem/zxcvbn ports zxcvbn 4.4.2 but
// indexes bytes where JavaScript indexes UTF-16 code units, so its repeat
// and sequence matchers go wrong on non-ASCII text, and its repeat
// matcher differs from 4.4.2 even on ASCII ('.' matches '\r'; a repeated
// email or name is not seen as such). estimateStrength therefore runs the
// port's other matchers and its scoring on stand-ins of the password with
// one ASCII byte per code unit (unitView), and matches repeats and
// sequences itself, ported from matching.coffee. Scores and feedback
// agreed with the npm package on about 30,000 generated passwords. Known
// differences remain where JavaScript's lower-casing changes a string's
// length or depends on context (U+0130, final sigma) inside a match of a
// non-ASCII email or name, and, in the feedback only, where two match
// sequences are exactly as guessable (the port keeps the one of more
// matches).

// estimateStrength is zxcvbn's most_guessable_match_sequence for password
// (UTF-16 code units) and its matches with userInputs.
func estimateStrength(password []uint16, userInputs []string) scoring.Result {
	inputs := make([][]uint16, len(userInputs))
	for i, s := range userInputs {
		inputs[i] = utf16.Encode([]rune(jsLower(s)))
	}
	return mostGuessable(password, inputs)
}

// mostGuessable scores password with inputs, the lower-cased user inputs.
func mostGuessable(password []uint16, inputs [][]uint16) scoring.Result {
	v := newUnitView(password, inputs)
	var ms []*match.Match
	if v.folded == strings.ToLower(v.exact) {
		// The usual case (no non-ASCII letters): one pass, as the
		// port's dictionary matching lower-cases ASCII itself.
		for _, m := range matching.Omnimatch(v.exact, v.inputs) {
			switch m.Pattern {
			case "dictionary", "spatial", "regex", "date":
				ms = append(ms, m)
			}
		}
	} else {
		for _, m := range matching.Omnimatch(v.folded, v.inputs) {
			if m.Pattern == "dictionary" { // plain, reversed and l33t
				m.Token = v.exact[m.I : m.J+1]
				ms = append(ms, m)
			}
		}
		for _, m := range matching.Omnimatch(v.exact, nil) {
			switch m.Pattern {
			case "spatial", "regex", "date":
				ms = append(ms, m)
			}
		}
	}
	ms = append(ms, repeatMatches(v, inputs)...)
	ms = append(ms, sequenceMatches(v)...)
	// omnimatch's order, which picks the match among equally guessable ones.
	sort.SliceStable(ms, func(a, b int) bool {
		if ms[a].I != ms[b].I {
			return ms[a].I < ms[b].I
		}
		if ms[a].J != ms[b].J {
			return ms[a].J < ms[b].J
		}
		return matcherOrder(ms[a]) < matcherOrder(ms[b])
	})
	return scoring.MostGuessableMatchSequence(v.exact, ms, false)
}

// matcherOrder ranks m as matching.coffee's omnimatch lists matches.
func matcherOrder(m *match.Match) int {
	switch m.Pattern {
	case "dictionary":
		switch o := dictionaryOrder[m.DictionaryName]; {
		case m.L33t:
			return 20 + o
		case m.Reversed:
			return 10 + o
		default:
			return o
		}
	case "spatial":
		return 30 + graphOrder[m.Graph]
	case "repeat":
		return 40
	case "sequence":
		return 41
	case "regex":
		return 42
	}
	return 43 // date
}

// The order of zxcvbn 4.4.2's frequency lists (user inputs last) and
// keyboard graphs.
var (
	dictionaryOrder = map[string]int{"passwords": 0, "english_wikipedia": 1, "female_names": 2,
		"surnames": 3, "us_tv_and_film": 4, "male_names": 5, "user_inputs": 6}
	graphOrder = map[string]int{"qwerty": 0, "dvorak": 1, "keypad": 2, "mac_keypad": 3}
)

// unitView holds stand-ins of a password with one ASCII byte per UTF-16
// code unit, so that the port's byte indexes are JavaScript's indexes.
type unitView struct {
	units []uint16
	// exact keeps ASCII, turns JavaScript's non-ASCII white space into
	// '\v' and any other unit into '\x01', which no keyboard graph, date
	// or year contains: for spatial, date and year matching, every
	// match's token and the bruteforce lengths.
	exact string
	// folded is the lower-cased password with a distinct control byte for
	// each non-ASCII unit that an input contains too, and inputs the
	// inputs in the same alphabet: for dictionary matching.
	folded string
	inputs []string
}

func newUnitView(units []uint16, inputs [][]uint16) *unitView {
	exact := make([]byte, len(units))
	for k, u := range units {
		switch {
		case u < 0x80:
			exact[k] = byte(u)
		case isJSSpace(u):
			exact[k] = '\v'
		default:
			exact[k] = 0x01
		}
	}

	// Control bytes that neither the password nor an input contains.
	lower := utf16.Encode([]rune(jsLower(string(utf16.Decode(units)))))
	taken := map[uint16]bool{}
	inInputs := map[uint16]bool{}
	for _, u := range append(append([]uint16(nil), units...), lower...) {
		taken[u] = true
	}
	for _, in := range inputs {
		for _, u := range in {
			taken[u], inInputs[u] = true, true
		}
	}
	var free []byte
	for b := byte(0); b < 0x80; b++ {
		if (b < 0x20 && (b < '\t' || b > '\r')) || b == 0x7f {
			if !taken[uint16(b)] {
				free = append(free, b)
			}
		}
	}
	free = append(free, 0x01, 0x02) // only if a password and inputs use every control byte
	passwordOnly, inputOnly, free := free[0], free[1], free[2:]

	placeholder := map[uint16]byte{}
	folded := make([]byte, len(units))
	for k := range folded {
		u := uint16(0xffff) // JavaScript's slice past the end of a shorter lower-case form
		if k < len(lower) {
			u = lower[k]
		}
		switch p, ok := placeholder[u]; {
		case u < 0x80:
			folded[k] = byte(u)
		case ok:
			folded[k] = p
		case inInputs[u] && len(free) > 0:
			placeholder[u], free = free[0], free[1:]
			folded[k] = placeholder[u]
		default:
			folded[k] = passwordOnly
		}
	}
	mapped := make([]string, len(inputs))
	for i, in := range inputs {
		b := make([]byte, len(in))
		for k, u := range in {
			switch p, ok := placeholder[u]; {
			case u < 0x80:
				b[k] = byte(u)
			case ok:
				b[k] = p
			default:
				b[k] = inputOnly
			}
		}
		mapped[i] = string(b)
	}
	return &unitView{units: units, exact: string(exact), folded: string(folded), inputs: mapped}
}

// repeatMatches ports repeat_match: JavaScript's /(.+)\1+/g and
// /(.+?)\1+/g from each lastIndex, '.' being any unit but a line
// terminator, and the base scored with the same user inputs.
func repeatMatches(v *unitView, inputs [][]uint16) []*match.Match {
	u := v.units
	// copies counts the repetitions of u[s:s+l] right after it.
	copies := func(s, l int) int {
		c := 0
		for t := s + l*(c+1); t+l <= len(u) && equalUnits(u[s:s+l], u[t:t+l]); t += l {
			c++
		}
		return c
	}
	var ms []*match.Match
	for last := 0; last < len(u); {
		s, greedy, lazy := -1, 0, 0
		for s0 := last; s0 < len(u) && s < 0; s0++ {
			run := 0 // how far '.' reaches from s0
			for s0+run < len(u) && !isLineTerminator(u[s0+run]) {
				run++
			}
			for l := run; l >= 1; l-- {
				if c := copies(s0, l); c > 0 {
					s, greedy = s0, l*(c+1)
					break
				}
			}
			for l := 1; l <= run && s >= 0; l++ {
				if c := copies(s0, l); c > 0 {
					lazy = l * (c + 1)
					break
				}
			}
		}
		if s < 0 {
			break
		}
		n, base := lazy, 0
		if greedy > lazy {
			n = greedy
		}
		for base = 1; n%base != 0 || copies(s, base) < n/base-1; base++ { // /^(.+?)\1+$/
		}
		r := mostGuessable(u[s:s+base], inputs)
		ms = append(ms, &match.Match{
			Pattern:     "repeat",
			I:           s,
			J:           s + n - 1,
			Token:       v.exact[s : s+n],
			BaseToken:   v.exact[s : s+base],
			BaseGuesses: r.Guesses,
			BaseMatches: r.Sequence,
			RepeatCount: n / base,
		})
		last = s + n
	}
	return ms
}

// sequenceMatches ports sequence_match: runs of equal steps of at most
// five between code units.
func sequenceMatches(v *unitView) []*match.Match {
	const maxDelta = 5
	u := v.units
	if len(u) <= 1 {
		return nil
	}
	var ms []*match.Match
	update := func(i, j, delta int) {
		d := max(delta, -delta)
		if (j-i > 1 || d == 1) && 0 < d && d <= maxDelta {
			token := v.exact[i : j+1]
			name, space := "unicode", 26
			switch {
			case onlyBytes(token, 'a', 'z'):
				name = "lower"
			case onlyBytes(token, 'A', 'Z'):
				name = "upper"
			case onlyBytes(token, '0', '9'):
				name, space = "digits", 10
			}
			ms = append(ms, &match.Match{Pattern: "sequence", I: i, J: j, Token: token,
				SequenceName: name, SequenceSpace: space, Ascending: delta > 0})
		}
	}
	i, last := 0, 0
	for k := 1; k < len(u); k++ {
		delta := int(u[k]) - int(u[k-1])
		if k == 1 {
			last = delta
		}
		if delta == last {
			continue
		}
		update(i, k-1, last)
		i, last = k-1, delta
	}
	update(i, len(u)-1, last)
	return ms
}

// guessesToScore is scoring.coffee's guesses_to_score.
func guessesToScore(guesses float64) int {
	const delta = 5
	switch {
	case guesses < 1e3+delta:
		return 0
	case guesses < 1e6+delta:
		return 1
	case guesses < 1e8+delta:
		return 2
	case guesses < 1e10+delta:
		return 3
	}
	return 4
}

// jsLower is JavaScript's String.prototype.toLowerCase: full Unicode
// lower-casing, final sigma included.
func jsLower(s string) string {
	return cases.Lower(language.Und).String(s)
}

// isJSSpace reports whether JavaScript's \s matches u outside ASCII.
func isJSSpace(u uint16) bool {
	switch {
	case u == 0xa0, u == 0x1680, 0x2000 <= u && u <= 0x200a, u == 0x2028, u == 0x2029,
		u == 0x202f, u == 0x205f, u == 0x3000, u == 0xfeff:
		return true
	}
	return false
}

// isLineTerminator reports whether JavaScript's '.' fails to match u.
func isLineTerminator(u uint16) bool {
	return u == '\n' || u == '\r' || u == 0x2028 || u == 0x2029
}

func equalUnits(a, b []uint16) bool {
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return len(a) == len(b)
}

// onlyBytes reports whether s is non-empty and every byte is in lo..hi.
func onlyBytes(s string, lo, hi byte) bool {
	for k := 0; k < len(s); k++ {
		if s[k] < lo || s[k] > hi {
			return false
		}
	}
	return s != ""
}
