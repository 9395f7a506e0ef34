package session

import "strings"

// uaTokens are the substrings most User-Agent headers are made of. A stored
// user agent replaces each with one control byte (its index + 1), which a
// header value never contains, so a browser's 110-character header takes
// about 20 bytes and the session value stays small enough for Redis to keep
// the user's hash as a listpack. Longer tokens come first: the coder takes
// the first that matches. Append only: stored sessions refer to indexes.
var uaTokens = [...]string{
	") AppleWebKit/605.1.15 (KHTML, like Gecko) Version/",
	") AppleWebKit/537.36 (KHTML, like Gecko) ",
	"Macintosh; Intel Mac OS X 10_15_7",
	"Windows NT 10.0; Win64; x64",
	" Mobile/15E148 Safari/604.1",
	") Gecko/20100101 Firefox/",
	" Mobile Safari/537.36",
	"iPhone; CPU iPhone OS ",
	"Linux; Android 10; K",
	"X11; Linux x86_64",
	" Safari/537.36",
	"Mozilla/5.0 (",
	" like Mac OS X",
	"HeadlessChrome/",
	"iPad; CPU OS ",
	"Chrome/",
	" Edg/",
	".0.0.0",
	" Safari/",
	"; rv:",
}

// compactUserAgent codes ua with uaTokens; false when that does not make
// it shorter or ua holds control bytes (it is stored as it is then).
func compactUserAgent(ua string) ([]byte, bool) {
	for i := 0; i < len(ua); i++ {
		if ua[i] < 0x20 || ua[i] == 0x7f {
			return nil, false
		}
	}
	out := make([]byte, 0, len(ua))
	for i := 0; i < len(ua); {
		matched := false
		for t, tok := range uaTokens {
			if strings.HasPrefix(ua[i:], tok) {
				out = append(out, byte(t+1))
				i += len(tok)
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, ua[i])
			i++
		}
	}
	return out, len(out) < len(ua)
}

// expandUserAgent reverses compactUserAgent. An unknown code (a value
// written by a newer version) is dropped.
func expandUserAgent(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) * 3)
	for _, c := range b {
		switch {
		case c >= 0x20:
			sb.WriteByte(c)
		case c >= 1 && int(c) <= len(uaTokens):
			sb.WriteString(uaTokens[c-1])
		}
	}
	return sb.String()
}
