// Package config loads the service's settings from the environment (and an
// optional file) into one typed struct, with every default in one place.
package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/viper"

	"github.com/lawfirm/creditor-email-matcher/services/attachments/fetch"
)

// Modes of APP_MODE.
const (
	ModeAll    = "all"
	ModeWeb    = "web"
	ModeWorker = "worker"
)

// Config is every setting of DESIGN.md §5 "Environment", plus the few tuning knobs the issues add.
type Config struct {
	AppMode     string `mapstructure:"APP_MODE"`
	Port        int    `mapstructure:"PORT"`
	Environment string `mapstructure:"ENVIRONMENT"`

	DatabaseURL    string `mapstructure:"DATABASE_URL"`
	DBMaxOpenConns int    `mapstructure:"DB_MAX_OPEN_CONNS"`

	RedisURL           string        `mapstructure:"REDIS_URL"`
	RedisNamespace     string        `mapstructure:"REDIS_NAMESPACE"`
	RedisPoolSize      int           `mapstructure:"REDIS_POOL_SIZE"`
	RedisDialTimeout   time.Duration `mapstructure:"REDIS_DIAL_TIMEOUT"`
	RedisSocketTimeout time.Duration `mapstructure:"REDIS_SOCKET_TIMEOUT"`

	WebhookSecret       string        `mapstructure:"WEBHOOK_SECRET"`
	WebhookTolerance    time.Duration `mapstructure:"WEBHOOK_TOLERANCE"`
	WebhookMaxBodyBytes int64         `mapstructure:"WEBHOOK_MAX_BODY_BYTES"`
	AdminAPIToken       string        `mapstructure:"ADMIN_API_TOKEN"`
	PublicBaseURL       string        `mapstructure:"PUBLIC_BASE_URL"`

	// WebhookUnverifiedMaxBytes bounds the bytes of webhook bodies held at
	// once before their signature is checked (DESIGN.md §5, §6.6).
	WebhookUnverifiedMaxBytes int64 `mapstructure:"WEBHOOK_UNVERIFIED_MAX_BYTES"`
	// AuthFailuresPerMinute is how many failed admin authentications one
	// client address may make per minute before it gets 429.
	AuthFailuresPerMinute int `mapstructure:"AUTH_FAILURES_PER_MINUTE"`
	// TrustedProxies lists the addresses (IPs or CIDRs, comma-separated)
	// whose X-Forwarded-For and X-Forwarded-Proto are believed; empty
	// believes nobody.
	TrustedProxies string `mapstructure:"TRUSTED_PROXIES"`

	WorkerConcurrency int           `mapstructure:"WORKER_CONCURRENCY"`
	JobMaxRetries     int           `mapstructure:"JOB_MAX_RETRIES"`
	JobMinBackoff     time.Duration `mapstructure:"JOB_MIN_BACKOFF"`
	JobMaxBackoff     time.Duration `mapstructure:"JOB_MAX_BACKOFF"`
	JobTimeout        time.Duration `mapstructure:"JOB_TIMEOUT"`
	LeaseDuration     time.Duration `mapstructure:"LEASE_DURATION"`
	ReaperInterval    time.Duration `mapstructure:"REAPER_INTERVAL"`
	MaxRescues        int           `mapstructure:"JOB_MAX_RESCUES"`
	ShutdownTimeout   time.Duration `mapstructure:"SHUTDOWN_TIMEOUT"`

	LLMProvider      string `mapstructure:"LLM_PROVIDER"`
	AnthropicAPIKey  string `mapstructure:"ANTHROPIC_API_KEY"`
	AnthropicModel   string `mapstructure:"ANTHROPIC_MODEL"`
	AnthropicBaseURL string `mapstructure:"ANTHROPIC_BASE_URL"`
	// LLMMaxInFlight caps concurrent model calls; the Limiter paces below it.
	LLMMaxInFlight int `mapstructure:"LLM_MAX_INFLIGHT"`
	// LLMDailyTokenBudget caps input + output tokens a day across all processes; 0 = off.
	LLMDailyTokenBudget int64 `mapstructure:"LLM_DAILY_TOKEN_BUDGET"`

	ZendeskSubdomain       string `mapstructure:"ZENDESK_SUBDOMAIN"`
	ZendeskEmail           string `mapstructure:"ZENDESK_EMAIL"`
	ZendeskAPIToken        string `mapstructure:"ZENDESK_API_TOKEN"`
	AttachmentAllowedHosts string `mapstructure:"ATTACHMENT_ALLOWED_HOSTS"`

	MatchAutoThreshold float64 `mapstructure:"MATCH_AUTO_THRESHOLD"`
	// AmountMax is the largest amount applied without a person (EUR).
	AmountMax float64 `mapstructure:"AMOUNT_MAX"`
	// AmountChangeReview is the largest change, as a fraction of an
	// inquiry's last known amount, applied without a person.
	AmountChangeReview   float64 `mapstructure:"AMOUNT_CHANGE_REVIEW"`
	MatchReviewThreshold float64 `mapstructure:"MATCH_REVIEW_THRESHOLD"`
	MatchMinGap          float64 `mapstructure:"MATCH_MIN_GAP"`

	MongoDBURL        string        `mapstructure:"MONGODB_URL"`
	MongoDBDatabase   string        `mapstructure:"MONGODB_DATABASE"`
	OutboxInterval    time.Duration `mapstructure:"OUTBOX_INTERVAL"`
	OutboxMaxAttempts int           `mapstructure:"OUTBOX_MAX_ATTEMPTS"`
	ReconcileInterval time.Duration `mapstructure:"RECONCILE_INTERVAL"`

	SMTPHost     string `mapstructure:"SMTP_HOST"`
	SMTPPort     int    `mapstructure:"SMTP_PORT"`
	SMTPUsername string `mapstructure:"SMTP_USERNAME"`
	SMTPPassword string `mapstructure:"SMTP_PASSWORD"`
	SMTPFrom     string `mapstructure:"SMTP_FROM"`
	AdminEmail   string `mapstructure:"ADMIN_EMAIL"`
	NotifyEmail  string `mapstructure:"NOTIFY_EMAIL"`

	// Attachment reading (services/attachments/read): per-file bounds.
	AttachmentMaxBytes     int64         `mapstructure:"ATTACHMENT_MAX_BYTES"`
	AttachmentMaxPages     int           `mapstructure:"ATTACHMENT_MAX_PAGES"`
	AttachmentTimeout      time.Duration `mapstructure:"ATTACHMENT_TIMEOUT"`
	AttachmentTextMaxChars int           `mapstructure:"ATTACHMENT_TEXT_MAX_CHARS"`
	// AttachmentEmailTimeout bounds the attachment stage of one email, all
	// its files together (services/attachments).
	AttachmentEmailTimeout time.Duration `mapstructure:"ATTACHMENT_EMAIL_TIMEOUT"`

	AutoMigrate bool   `mapstructure:"AUTO_MIGRATE"`
	LogLevel    string `mapstructure:"LOG_LEVEL"`
	LogFormat   string `mapstructure:"LOG_FORMAT"`
}

// defaults holds every default value; keys are the environment variable names.
var defaults = map[string]any{
	"APP_MODE":                  ModeAll,
	"PORT":                      8080,
	"ENVIRONMENT":               "development",
	"DATABASE_URL":              "postgres://postgres:postgres@127.0.0.1:5432/creditor_matcher?sslmode=disable",
	"DB_MAX_OPEN_CONNS":         20,
	"REDIS_URL":                 "redis://127.0.0.1:6379/0",
	"REDIS_NAMESPACE":           "creditor_matcher",
	"REDIS_POOL_SIZE":           10,
	"REDIS_DIAL_TIMEOUT":        "5s",
	"REDIS_SOCKET_TIMEOUT":      "5s",
	"WEBHOOK_SECRET":            "",
	"WEBHOOK_TOLERANCE":         "5m",
	"WEBHOOK_MAX_BODY_BYTES":    5 << 20,
	"ADMIN_API_TOKEN":           "",
	"PUBLIC_BASE_URL":           "http://localhost:8080",
	"WORKER_CONCURRENCY":        4,
	"JOB_MAX_RETRIES":           5,
	"JOB_MIN_BACKOFF":           "15s",
	"JOB_MAX_BACKOFF":           "5m",
	"JOB_TIMEOUT":               "10m",
	"LEASE_DURATION":            "60s",
	"REAPER_INTERVAL":           "30s",
	"JOB_MAX_RESCUES":           3,
	"SHUTDOWN_TIMEOUT":          "20s",
	"LLM_PROVIDER":              "",
	"ANTHROPIC_API_KEY":         "",
	"ANTHROPIC_MODEL":           "",
	"ANTHROPIC_BASE_URL":        "",
	"LLM_MAX_INFLIGHT":          256,
	"LLM_DAILY_TOKEN_BUDGET":    0,
	"MATCH_AUTO_THRESHOLD":      0.8,
	"AMOUNT_MAX":                500000.0,
	"AMOUNT_CHANGE_REVIEW":      0.5,
	"MATCH_REVIEW_THRESHOLD":    0.45,
	"MATCH_MIN_GAP":             0.15,
	"MONGODB_URL":               "",
	"MONGODB_DATABASE":          "",
	"OUTBOX_INTERVAL":           "2s",
	"OUTBOX_MAX_ATTEMPTS":       10,
	"RECONCILE_INTERVAL":        "1h",
	"SMTP_HOST":                 "",
	"SMTP_PORT":                 587,
	"SMTP_USERNAME":             "",
	"SMTP_PASSWORD":             "",
	"SMTP_FROM":                 "",
	"ADMIN_EMAIL":               "",
	"NOTIFY_EMAIL":              "",
	"ATTACHMENT_MAX_BYTES":      20 << 20,
	"ATTACHMENT_MAX_PAGES":      50,
	"ATTACHMENT_TIMEOUT":        "60s",
	"ATTACHMENT_TEXT_MAX_CHARS": 200000,
	"ATTACHMENT_EMAIL_TIMEOUT":  "5m",
	"AUTO_MIGRATE":              true,
	"LOG_LEVEL":                 "info",
	"LOG_FORMAT":                "json",

	"ZENDESK_SUBDOMAIN": "",
	"ZENDESK_EMAIL":     "",
	"ZENDESK_API_TOKEN": "",
	// Empty: <ZENDESK_SUBDOMAIN>.zendesk.com and *.zdusercontent.com.
	"ATTACHMENT_ALLOWED_HOSTS": "",

	"WEBHOOK_UNVERIFIED_MAX_BYTES": 32 << 20,
	"AUTH_FAILURES_PER_MINUTE":     20,
	"TRUSTED_PROXIES":              "",
}

// Load reads settings from getenv, over an optional file (CONFIG_FILE: .env,
// YAML, JSON or TOML), over the defaults. It does not validate.
func Load(getenv func(string) string) (*Config, error) {
	v := viper.New()
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	if path := getenv("CONFIG_FILE"); path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			// Parse errors quote the offending line, which may hold a secret.
			var parseErr viper.ConfigParseError
			if errors.As(err, &parseErr) {
				return nil, &Problems{List: []string{"CONFIG_FILE: " + path + ": cannot be parsed"}}
			}
			return nil, &Problems{List: []string{fmt.Sprintf("CONFIG_FILE: %v", err)}}
		}
	}
	for k := range defaults {
		if val, ok := lookup(getenv, k); ok {
			v.Set(k, val)
		}
	}
	var cfg Config
	if err := v.Unmarshal(&cfg); err != nil {
		return nil, &Problems{List: invalidKeys(v)}
	}
	if cfg.LLMProvider == "" {
		cfg.LLMProvider = "rules"
		if cfg.AnthropicAPIKey != "" {
			cfg.LLMProvider = "claude"
		}
	}
	return &cfg, nil
}

// invalidKeys decodes each setting alone, so every bad value is named by
// its variable (viper's own error names one and quotes the value).
func invalidKeys(v *viper.Viper) []string {
	var problems []string
	for k := range defaults {
		var probe Config
		one := viper.New()
		one.Set(k, v.Get(k))
		if err := one.Unmarshal(&probe); err != nil {
			problems = append(problems, k+": invalid value")
		}
	}
	return sortStrings(problems)
}

// lookup treats an empty variable as unset, so `FOO=` falls back to the default.
func lookup(getenv func(string) string, key string) (string, bool) {
	val := strings.TrimSpace(getenv(key))
	return val, val != ""
}

// Problems lists every invalid setting at once.
type Problems struct{ List []string }

func (p *Problems) Error() string {
	return "invalid configuration:\n  " + strings.Join(p.List, "\n  ")
}

// ErrInvalid is matched by errors.Is for any configuration problem.
var ErrInvalid = errors.New("invalid configuration")

// Is lets errors.Is(err, ErrInvalid) match Problems.
func (p *Problems) Is(target error) bool { return target == ErrInvalid }

// Validate reports every problem with the settings at once.
func (c *Config) Validate() error {
	var p []string
	for _, r := range append(c.rules(), c.ranges()...) {
		if !r.ok {
			p = append(p, r.problem)
		}
	}
	p = append(p, fetch.Problems(c.AttachmentFetch())...)
	if len(p) > 0 {
		return &Problems{List: sortStrings(p)}
	}
	return nil
}

// rule is one check of Validate: problem is reported when ok is false.
type rule struct {
	ok      bool
	problem string
}

// rules are the checks with their own messages. Messages name the variable
// and never quote its value, which may be a secret.
func (c *Config) rules() []rule {
	prod, public := c.Production(), parsedURL(c.PublicBaseURL)
	return []rule{
		{oneOf(c.AppMode, ModeAll, ModeWeb, ModeWorker), "APP_MODE: must be all, web or worker"},
		{0 <= c.Port && c.Port <= 65535, "PORT: must be 0–65535"},
		{oneOf(c.Environment, "development", "production"), "ENVIRONMENT: must be development or production"},
		{oneOf(parsedURL(c.DatabaseURL).Scheme, "postgres", "postgresql"), "DATABASE_URL: must be a postgres:// URL"},
		{oneOf(parsedURL(c.RedisURL).Scheme, "redis", "rediss"), "REDIS_URL: must be a redis:// or rediss:// URL"},
		{c.RedisNamespace != "" && !strings.ContainsAny(c.RedisNamespace, "{}: "),
			"REDIS_NAMESPACE: must be non-empty without braces, colons or spaces"},
		{!prod || c.WebhookSecret != "", "WEBHOOK_SECRET: required in production"},
		{!prod || c.AdminAPIToken != "", "ADMIN_API_TOKEN: required in production"},
		{c.AdminAPIToken == "" || len(c.AdminAPIToken) >= 16, "ADMIN_API_TOKEN: must be at least 16 characters"},
		{0 < c.MatchReviewThreshold && c.MatchReviewThreshold <= c.MatchAutoThreshold && c.MatchAutoThreshold <= 1,
			"MATCH_AUTO_THRESHOLD, MATCH_REVIEW_THRESHOLD: need 0 < review <= auto <= 1"},
		{0 < c.AmountMax && c.AmountMax <= 10_000_000, "AMOUNT_MAX: must be more than 0 and at most 10000000"},
		{0 < c.AmountChangeReview && c.AmountChangeReview <= 100, "AMOUNT_CHANGE_REVIEW: must be a fraction more than 0 (0.5 = 50 %)"},
		{0 <= c.MatchMinGap && c.MatchMinGap <= 1, "MATCH_MIN_GAP: must be 0–1"}, // NaN fails too
		{oneOf(c.LLMProvider, "claude", "rules"), "LLM_PROVIDER: must be claude or rules"},
		{c.LLMProvider != "claude" || c.AnthropicAPIKey != "", "ANTHROPIC_API_KEY: required when LLM_PROVIDER=claude"},
		{c.AnthropicBaseURL == "" || parsedURL(c.AnthropicBaseURL).Host != "", "ANTHROPIC_BASE_URL: must be an absolute URL"},
		{oneOf(public.Scheme, "http", "https") && public.Host != "", "PUBLIC_BASE_URL: must be an absolute http(s) URL"},
		{(c.MongoDBURL == "") == (c.MongoDBDatabase == ""), "MONGODB_URL, MONGODB_DATABASE: set both or neither"},
		{optionalAddress(c.SMTPFrom), "SMTP_FROM: not a valid e-mail address"},
		{optionalAddress(c.AdminEmail), "ADMIN_EMAIL: not a valid e-mail address"},
		{optionalAddress(c.NotifyEmail), "NOTIFY_EMAIL: not a valid e-mail address"},
		{oneOf(strings.ToLower(c.LogLevel), "debug", "info", "warn", "error"), "LOG_LEVEL: must be debug, info, warn or error"},
		{oneOf(c.LogFormat, "json", "text"), "LOG_FORMAT: must be json or text"},
		{c.WebhookUnverifiedMaxBytes >= c.WebhookMaxBodyBytes,
			"WEBHOOK_UNVERIFIED_MAX_BYTES: must be at least WEBHOOK_MAX_BODY_BYTES (one body must fit)"},
		{validProxies(c.TrustedProxies), "TRUSTED_PROXIES: must be comma-separated IP addresses or CIDR ranges"},
	}
}

// ranges are the bounds of the numeric settings, each reported as "NAME: out of range".
func (c *Config) ranges() []rule {
	in := func(name string, ok bool) rule { return rule{ok, name + ": out of range"} }
	return []rule{
		in("WEBHOOK_TOLERANCE", c.WebhookTolerance > 0),
		in("WEBHOOK_MAX_BODY_BYTES", c.WebhookMaxBodyBytes > 0),
		in("WORKER_CONCURRENCY", c.WorkerConcurrency > 0 && c.WorkerConcurrency <= 1024),
		in("JOB_MAX_RETRIES", c.JobMaxRetries >= 0),
		in("JOB_MIN_BACKOFF", c.JobMinBackoff > 0),
		in("JOB_MAX_BACKOFF", c.JobMaxBackoff >= c.JobMinBackoff),
		in("JOB_TIMEOUT", c.JobTimeout > 0),
		in("LEASE_DURATION", c.LeaseDuration >= time.Second),
		in("REAPER_INTERVAL", c.ReaperInterval > 0),
		in("JOB_MAX_RESCUES", c.MaxRescues > 0),
		in("SHUTDOWN_TIMEOUT", c.ShutdownTimeout > 0),
		in("DB_MAX_OPEN_CONNS", c.DBMaxOpenConns > 0),
		in("REDIS_POOL_SIZE", c.RedisPoolSize > 0),
		in("REDIS_DIAL_TIMEOUT", c.RedisDialTimeout > 0),
		in("REDIS_SOCKET_TIMEOUT", c.RedisSocketTimeout > 0),
		in("OUTBOX_INTERVAL", c.OutboxInterval > 0),
		in("OUTBOX_MAX_ATTEMPTS", c.OutboxMaxAttempts > 0),
		in("RECONCILE_INTERVAL", c.ReconcileInterval > 0),
		in("SMTP_PORT", c.SMTPPort > 0 && c.SMTPPort <= 65535),
		in("LLM_MAX_INFLIGHT", c.LLMMaxInFlight > 0 && c.LLMMaxInFlight <= 4096),
		in("LLM_DAILY_TOKEN_BUDGET", c.LLMDailyTokenBudget >= 0),
		in("ATTACHMENT_MAX_BYTES", c.AttachmentMaxBytes > 0 && c.AttachmentMaxBytes <= 1<<30),
		in("ATTACHMENT_MAX_PAGES", c.AttachmentMaxPages > 0 && c.AttachmentMaxPages <= 1000),
		in("ATTACHMENT_TIMEOUT", c.AttachmentTimeout >= time.Second),
		in("ATTACHMENT_TEXT_MAX_CHARS", c.AttachmentTextMaxChars > 0 && c.AttachmentTextMaxChars <= 10_000_000),
		in("ATTACHMENT_EMAIL_TIMEOUT", c.AttachmentEmailTimeout >= max(c.AttachmentTimeout, time.Second) &&
			(c.JobTimeout <= 0 || c.AttachmentEmailTimeout < c.JobTimeout)),
		in("WEBHOOK_UNVERIFIED_MAX_BYTES", c.WebhookUnverifiedMaxBytes > 0),
		in("AUTH_FAILURES_PER_MINUTE", c.AuthFailuresPerMinute > 0),
	}
}

func oneOf(v string, allowed ...string) bool { return slices.Contains(allowed, v) }

// parsedURL parses raw; what does not parse is an empty URL, with no scheme and no host.
func parsedURL(raw string) *url.URL {
	if u, err := url.Parse(raw); err == nil {
		return u
	}
	return &url.URL{}
}

// optionalAddress reports whether addr is unset or one valid e-mail address.
func optionalAddress(addr string) bool {
	_, err := mail.ParseAddress(addr)
	return addr == "" || err == nil
}

// AttachmentFetch is the attachment downloader's configuration from these
// settings. The caller adds the size and time limits.
func (c *Config) AttachmentFetch() fetch.Config {
	return fetch.Config{
		Subdomain:    c.ZendeskSubdomain,
		Email:        c.ZendeskEmail,
		APIToken:     c.ZendeskAPIToken,
		AllowedHosts: c.AttachmentAllowedHosts,
		AllowHTTP:    !c.Production(),
	}
}

// Proxies returns TRUSTED_PROXIES as a list, empty entries dropped.
func (c *Config) Proxies() []string {
	var out []string
	for p := range strings.SplitSeq(c.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// validProxies reports whether every entry is an IP address or a CIDR range.
func validProxies(list string) bool {
	for _, p := range (&Config{TrustedProxies: list}).Proxies() {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			return false
		}
	}
	return true
}

// Production reports whether ENVIRONMENT=production.
func (c *Config) Production() bool { return c.Environment == "production" }

// RunsWeb reports whether this process serves the webhook and admin API.
func (c *Config) RunsWeb() bool { return c.AppMode != ModeWorker }

// RunsWorker reports whether this process runs the pool, scheduler, reaper and relay.
func (c *Config) RunsWorker() bool { return c.AppMode != ModeWeb }

func sortStrings(s []string) []string {
	slices.Sort(s)
	return s
}
