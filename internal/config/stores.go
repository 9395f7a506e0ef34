package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// redisForm and mongoForm say what REDIS_URL and MONGODB_URI must look like.
const (
	redisForm = "must be a redis:// or rediss:// URL, or cluster nodes as comma-separated host:port or redis://host:port"
	mongoForm = "must be a mongodb:// or mongodb+srv:// connection string"
)

// RedisNodes parses REDIS_URL as Load accepts it: one redis://, rediss://
// (or unix://) URL, or a Redis Cluster's nodes, comma-separated, each
// host:port or a redis:// or rediss:// URL. It returns the options of each
// node; more than one means a cluster. The error says what the value must
// look like and never repeats a password.
func RedisNodes(raw string) ([]*redis.Options, error) {
	parts := strings.Split(raw, ",")
	if len(parts) == 1 {
		opt, err := redis.ParseURL(strings.TrimSpace(raw))
		if err != nil {
			return nil, formError(redisForm, err, raw)
		}
		return []*redis.Options{opt}, nil
	}
	nodes := make([]*redis.Options, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, errors.New(redisForm + " (an empty node)")
		}
		if !strings.Contains(p, "://") {
			p = "redis://" + p
		}
		opt, err := redis.ParseURL(p)
		if err == nil && opt.Network != "tcp" {
			err = errors.New("a cluster node must be reached over TCP")
		}
		if err != nil {
			return nil, formError(redisForm, err, raw)
		}
		nodes = append(nodes, opt)
	}
	return nodes, nil
}

// checkMongoURI checks MONGODB_URI's syntax and options with the driver's
// own parser. A mongodb+srv:// URI is checked for its scheme only: parsing
// one looks up DNS records, which is connecting, not configuration.
func checkMongoURI(raw string) error {
	if strings.HasPrefix(raw, "mongodb+srv://") {
		return nil
	}
	if !strings.HasPrefix(raw, "mongodb://") {
		return errors.New(mongoForm)
	}
	if err := options.Client().ApplyURI(raw).Validate(); err != nil {
		return formError(mongoForm, err, raw)
	}
	return nil
}

// formError is form with the parser's reason appended, unless the reason
// would repeat the value's password (url.Parse quotes the whole URL).
func formError(form string, err error, raw string) error {
	reason := err.Error()
	for _, prefix := range []string{"redis: ", "error parsing uri: ", "error validating uri: "} {
		reason = strings.TrimPrefix(reason, prefix)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		reason = uerr.Err.Error()
	}
	for _, pw := range passwords(raw) {
		if strings.Contains(reason, pw) {
			return errors.New(form)
		}
	}
	return fmt.Errorf("%s (%s)", form, reason)
}

// passwords returns the passwords in a URL or a comma-separated list of
// them, as written (escaped or not).
func passwords(raw string) []string {
	var out []string
	for _, node := range strings.Split(raw, ",") {
		if _, pw, ok := splitUserinfo(node); ok && pw != "" {
			out = append(out, pw)
			if un, err := url.PathUnescape(pw); err == nil && un != pw {
				out = append(out, un)
			}
		}
	}
	return out
}

// redact hides the password of each URL in a comma-separated list, so that
// an error naming the setting can quote its value.
func redact(raw string) string {
	nodes := strings.Split(raw, ",")
	for i, node := range nodes {
		if at, pw, ok := splitUserinfo(node); ok && pw != "" {
			nodes[i] = node[:at-len(pw)] + "xxxxx" + node[at:]
		}
	}
	return strings.Join(nodes, ",")
}

// splitUserinfo finds the password of "scheme://user:password@host…" (or
// "user:password@host…"): at is the index of the '@' that ends it.
func splitUserinfo(node string) (at int, password string, ok bool) {
	start := 0
	if i := strings.Index(node, "://"); i >= 0 {
		start = i + len("://")
	}
	authority := node[start:]
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	end := strings.LastIndex(authority, "@")
	if end < 0 {
		return 0, "", false
	}
	_, password, ok = strings.Cut(authority[:end], ":")
	return start + end, password, ok
}
