package config_test

import (
	"bufio"
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/config"
)

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// load loads and validates, failing the test on a Load error.
func load(t *testing.T, m map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(env(m))
	require.NoError(t, err)
	return cfg
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	cfg := load(t, nil)
	require.NoError(t, cfg.Validate())

	require.Equal(t, config.ModeAll, cfg.AppMode)
	require.Equal(t, 8080, cfg.Port)
	require.Equal(t, "development", cfg.Environment)
	require.False(t, cfg.Production())
	require.Equal(t, "creditor_matcher", cfg.RedisNamespace)
	require.Equal(t, 5*time.Minute, cfg.WebhookTolerance)
	require.Equal(t, int64(5<<20), cfg.WebhookMaxBodyBytes)
	require.Equal(t, int64(32<<20), cfg.WebhookUnverifiedMaxBytes)
	require.Equal(t, 20, cfg.AuthFailuresPerMinute)
	require.Empty(t, cfg.Proxies())
	require.Equal(t, 4, cfg.WorkerConcurrency)
	require.Equal(t, 256, cfg.LLMMaxInFlight)
	require.Zero(t, cfg.LLMDailyTokenBudget, "no budget unless one is set")
	require.Equal(t, 5, cfg.JobMaxRetries)
	require.Equal(t, 15*time.Second, cfg.JobMinBackoff)
	require.Equal(t, 5*time.Minute, cfg.JobMaxBackoff)
	require.Equal(t, 10*time.Minute, cfg.JobTimeout)
	require.Equal(t, 60*time.Second, cfg.LeaseDuration)
	require.Equal(t, 30*time.Second, cfg.ReaperInterval)
	require.Equal(t, 587, cfg.SMTPPort)
	require.Equal(t, int64(20<<20), cfg.AttachmentMaxBytes)
	require.Equal(t, 50, cfg.AttachmentMaxPages)
	require.Equal(t, 60*time.Second, cfg.AttachmentTimeout)
	require.Equal(t, 200000, cfg.AttachmentTextMaxChars)
	require.True(t, cfg.AutoMigrate)
	require.Equal(t, "info", cfg.LogLevel)
	require.Equal(t, "json", cfg.LogFormat)
	require.Equal(t, "rules", cfg.LLMProvider)
	require.Empty(t, cfg.WebhookSecret)
	require.Empty(t, cfg.AdminAPIToken)
	require.Empty(t, cfg.ZendeskAPIToken)
	require.Empty(t, cfg.AttachmentAllowedHosts, "empty: the Zendesk hosts")
	require.True(t, cfg.RunsWeb())
	require.True(t, cfg.RunsWorker())
}

func TestEnvOverrides(t *testing.T) {
	t.Parallel()
	cfg := load(t, map[string]string{
		"APP_MODE":                 "worker",
		"PORT":                     "9090",
		"ENVIRONMENT":              "production",
		"DATABASE_URL":             "postgres://u@db:5432/x?sslmode=disable",
		"REDIS_URL":                "rediss://cache:6380/1",
		"REDIS_NAMESPACE":          "ns1",
		"WEBHOOK_SECRET":           "whsec",
		"WEBHOOK_TOLERANCE":        "90s",
		"WEBHOOK_MAX_BODY_BYTES":   "1024",
		"ADMIN_API_TOKEN":          "0123456789abcdef",
		"WORKER_CONCURRENCY":       "16",
		"JOB_MAX_RETRIES":          "0",
		"JOB_MIN_BACKOFF":          "1s",
		"JOB_MAX_BACKOFF":          "1h30m",
		"JOB_TIMEOUT":              "2m",
		"ATTACHMENT_EMAIL_TIMEOUT": "90s",
		"LEASE_DURATION":           "45s",
		"REAPER_INTERVAL":          "500ms",
		"SMTP_PORT":                "2525",
		"AUTO_MIGRATE":             "false",
		"LOG_LEVEL":                "DEBUG",
		"LOG_FORMAT":               "text",
	})
	require.NoError(t, cfg.Validate())

	require.Equal(t, config.ModeWorker, cfg.AppMode)
	require.False(t, cfg.RunsWeb())
	require.True(t, cfg.RunsWorker())
	require.Equal(t, 9090, cfg.Port)
	require.True(t, cfg.Production())
	require.Equal(t, "postgres://u@db:5432/x?sslmode=disable", cfg.DatabaseURL)
	require.Equal(t, "rediss://cache:6380/1", cfg.RedisURL)
	require.Equal(t, "ns1", cfg.RedisNamespace)
	require.Equal(t, "whsec", cfg.WebhookSecret)
	require.Equal(t, 90*time.Second, cfg.WebhookTolerance)
	require.Equal(t, int64(1024), cfg.WebhookMaxBodyBytes)
	require.Equal(t, "0123456789abcdef", cfg.AdminAPIToken)
	require.Equal(t, 16, cfg.WorkerConcurrency)
	require.Equal(t, 0, cfg.JobMaxRetries)
	require.Equal(t, time.Second, cfg.JobMinBackoff)
	require.Equal(t, 90*time.Minute, cfg.JobMaxBackoff)
	require.Equal(t, 2*time.Minute, cfg.JobTimeout)
	require.Equal(t, 90*time.Second, cfg.AttachmentEmailTimeout)
	require.Equal(t, 45*time.Second, cfg.LeaseDuration)
	require.Equal(t, 500*time.Millisecond, cfg.ReaperInterval)
	require.Equal(t, 2525, cfg.SMTPPort)
	require.False(t, cfg.AutoMigrate)
	require.Equal(t, "text", cfg.LogFormat)
}

func TestEmptyVariableFallsBackToDefault(t *testing.T) {
	t.Parallel()
	cfg := load(t, map[string]string{"PORT": "  ", "JOB_TIMEOUT": ""})
	require.Equal(t, 8080, cfg.Port)
	require.Equal(t, 10*time.Minute, cfg.JobTimeout)
}

func TestInvalidValuesNameTheirVariable(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"PORT":                   "abc",
		"JOB_MIN_BACKOFF":        "soon",
		"WEBHOOK_TOLERANCE":      "5",
		"WEBHOOK_MAX_BODY_BYTES": "5MB",
		"AUTO_MIGRATE":           "maybe",
		"MATCH_AUTO_THRESHOLD":   "high",
	}
	for name, val := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(env(map[string]string{name: val}))
			require.Error(t, err)
			require.ErrorIs(t, err, config.ErrInvalid)
			require.Contains(t, err.Error(), name+":")
			require.NotContains(t, err.Error(), val, "the bad value is not echoed")
		})
	}

	t.Run("all at once", func(t *testing.T) {
		t.Parallel()
		_, err := config.Load(env(map[string]string{"PORT": "abc", "JOB_MIN_BACKOFF": "soon", "SMTP_PORT": "x"}))
		var p *config.Problems
		require.ErrorAs(t, err, &p)
		require.Equal(t, []string{"JOB_MIN_BACKOFF: invalid value", "PORT: invalid value", "SMTP_PORT: invalid value"}, p.List)
	})
}

func TestValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	cfg := load(t, map[string]string{
		"APP_MODE":        "both",
		"PORT":            "70000",
		"ENVIRONMENT":     "staging",
		"DATABASE_URL":    "mysql://x",
		"REDIS_URL":       "http://x",
		"REDIS_NAMESPACE": "a:b",
		"JOB_MIN_BACKOFF": "1m",
		"JOB_MAX_BACKOFF": "30s",
		"LEASE_DURATION":  "10ms",
		"LOG_LEVEL":       "loud",
		"LOG_FORMAT":      "xml",
		"ADMIN_EMAIL":     "not an address",
		"MONGODB_URL":     "mongodb://x",
	})
	err := cfg.Validate()
	require.ErrorIs(t, err, config.ErrInvalid)
	var p *config.Problems
	require.ErrorAs(t, err, &p)
	for _, name := range []string{
		"APP_MODE", "PORT", "ENVIRONMENT", "DATABASE_URL", "REDIS_URL", "REDIS_NAMESPACE",
		"JOB_MAX_BACKOFF", "LEASE_DURATION", "LOG_LEVEL", "LOG_FORMAT", "ADMIN_EMAIL", "MONGODB_URL",
	} {
		require.Contains(t, err.Error(), name, "problem list names %s", name)
	}
	require.Len(t, p.List, 12)
	require.IsNonDecreasing(t, p.List)
}

func TestProductionRequiresSecrets(t *testing.T) {
	t.Parallel()
	cfg := load(t, map[string]string{"ENVIRONMENT": "production"})
	err := cfg.Validate()
	require.ErrorIs(t, err, config.ErrInvalid)
	require.Contains(t, err.Error(), "WEBHOOK_SECRET: required in production")
	require.Contains(t, err.Error(), "ADMIN_API_TOKEN: required in production")

	cfg = load(t, map[string]string{"ENVIRONMENT": "production", "WEBHOOK_SECRET": "s", "ADMIN_API_TOKEN": "0123456789abcdef"})
	require.NoError(t, cfg.Validate())

	// Development runs without them.
	require.NoError(t, load(t, map[string]string{"ENVIRONMENT": "development"}).Validate())
}

func TestLLMProvider(t *testing.T) {
	t.Parallel()
	require.Equal(t, "rules", load(t, nil).LLMProvider)

	withKey := load(t, map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test"})
	require.Equal(t, "claude", withKey.LLMProvider)
	require.NoError(t, withKey.Validate())

	forced := load(t, map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test", "LLM_PROVIDER": "rules"})
	require.Equal(t, "rules", forced.LLMProvider)

	noKey := load(t, map[string]string{"LLM_PROVIDER": "claude"})
	err := noKey.Validate()
	require.ErrorIs(t, err, config.ErrInvalid)
	require.Contains(t, err.Error(), "ANTHROPIC_API_KEY:")

	bad := load(t, map[string]string{"LLM_PROVIDER": "gpt"})
	require.ErrorContains(t, bad.Validate(), "LLM_PROVIDER:")
}

func TestConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		".env":        "PORT=9191\nJOB_TIMEOUT=3m\nREDIS_NAMESPACE=from_file\nWEBHOOK_SECRET=file-secret\n",
		"matcher.yml": "PORT: 9191\nJOB_TIMEOUT: 3m\nREDIS_NAMESPACE: from_file\nWEBHOOK_SECRET: file-secret\n",
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, name)
			require.NoError(t, os.WriteFile(path, []byte(content), 0o600))

			cfg := load(t, map[string]string{"CONFIG_FILE": path})
			require.Equal(t, 9191, cfg.Port)
			require.Equal(t, 3*time.Minute, cfg.JobTimeout)
			require.Equal(t, "from_file", cfg.RedisNamespace)
			require.Equal(t, "file-secret", cfg.WebhookSecret)
			require.Equal(t, "json", cfg.LogFormat, "defaults fill what the file leaves out")

			cfg = load(t, map[string]string{"CONFIG_FILE": path, "PORT": "7070", "WEBHOOK_SECRET": "env-secret"})
			require.Equal(t, 7070, cfg.Port, "the environment overrides the file")
			require.Equal(t, "env-secret", cfg.WebhookSecret)
			require.Equal(t, 3*time.Minute, cfg.JobTimeout)
		})
	}

	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		_, err := config.Load(env(map[string]string{"CONFIG_FILE": filepath.Join(dir, "absent.env")}))
		require.ErrorIs(t, err, config.ErrInvalid)
		require.ErrorContains(t, err, "CONFIG_FILE")
	})

	t.Run("bad value in file names its variable", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(dir, "bad.env")
		require.NoError(t, os.WriteFile(path, []byte("LEASE_DURATION=forever\n"), 0o600))
		_, err := config.Load(env(map[string]string{"CONFIG_FILE": path}))
		require.ErrorContains(t, err, "LEASE_DURATION: invalid value")
	})
}

// TestSecretsNeverInErrors feeds secrets alongside broken settings and checks
// no error text carries them (errors are printed at start-up).
func TestSecretsNeverInErrors(t *testing.T) {
	t.Parallel()
	const (
		secret = "whsec-TOPSECRET-1"
		token  = "tok-TOPSECRET-2"
		apiKey = "sk-ant-TOPSECRET-3"
		smtpPw = "smtp-TOPSECRET-4"
	)
	secrets := []string{secret, token, apiKey, smtpPw, "TOPSECRET"}
	noSecrets := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		for _, s := range secrets {
			require.NotContains(t, err.Error(), s)
		}
	}

	base := map[string]string{
		"ENVIRONMENT": "production", "WEBHOOK_SECRET": secret, "ADMIN_API_TOKEN": token,
		"ANTHROPIC_API_KEY": apiKey, "SMTP_PASSWORD": smtpPw,
		"DATABASE_URL": "mysql://admin:TOPSECRET@db/x", "REDIS_URL": "ftp://:TOPSECRET@r",
		"ANTHROPIC_BASE_URL": "TOPSECRET", "MONGODB_URL": "mongodb://u:TOPSECRET@m",
		"ZENDESK_API_TOKEN": "zd-TOPSECRET-5", "ZENDESK_EMAIL": "TOPSECRET", "ATTACHMENT_ALLOWED_HOSTS": "TOPSECRET/x",
	}
	cfg := load(t, base)
	err := cfg.Validate()
	noSecrets(t, err)
	require.Contains(t, err.Error(), "ADMIN_API_TOKEN: must be at least 16 characters")
	require.Contains(t, err.Error(), "ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_API_TOKEN: set all three or none")
	require.Contains(t, err.Error(), "ATTACHMENT_ALLOWED_HOSTS: entry 1:")

	bad := maps.Clone(base)
	bad["PORT"] = "TOPSECRET"
	_, err = config.Load(env(bad))
	noSecrets(t, err)

	// A config file the parser rejects must not have its lines quoted back.
	dir := t.TempDir()
	for name, content := range map[string]string{
		"broken.env":  "PORT=1\nWEBHOOK_SECRET " + secret + "\n",
		"broken.yaml": "WEBHOOK_SECRET: " + secret + "\nPORT: [\n",
		"broken.json": `{"WEBHOOK_SECRET": "` + secret + `" x}`,
	} {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		_, err := config.Load(env(map[string]string{"CONFIG_FILE": path}))
		noSecrets(t, err)
		require.ErrorIs(t, err, config.ErrInvalid)
		require.Contains(t, err.Error(), "CONFIG_FILE")
	}
}

func TestProblemsIsErrInvalid(t *testing.T) {
	t.Parallel()
	err := error(&config.Problems{List: []string{"X: bad"}})
	require.ErrorIs(t, err, config.ErrInvalid)
	require.Equal(t, "invalid configuration:\n  X: bad", err.Error())
}

// TestEachRuleReportsItsProblem breaks one rule at a time over the defaults
// and checks the exact problem lines, so every message of Validate is pinned.
func TestEachRuleReportsItsProblem(t *testing.T) {
	t.Parallel()
	outOfRange := map[string]string{
		"WEBHOOK_TOLERANCE": "-1s", "WEBHOOK_MAX_BODY_BYTES": "0", "WORKER_CONCURRENCY": "1025",
		"JOB_MAX_RETRIES": "-1", "JOB_MIN_BACKOFF": "0s", "JOB_MAX_BACKOFF": "14s", "JOB_TIMEOUT": "0s",
		"LEASE_DURATION": "999ms", "REAPER_INTERVAL": "0s", "JOB_MAX_RESCUES": "0", "SHUTDOWN_TIMEOUT": "-1s",
		"DB_MAX_OPEN_CONNS": "0", "REDIS_POOL_SIZE": "0", "REDIS_DIAL_TIMEOUT": "0s", "REDIS_SOCKET_TIMEOUT": "0s",
		"OUTBOX_INTERVAL": "0s", "OUTBOX_MAX_ATTEMPTS": "0", "RECONCILE_INTERVAL": "0s", "SMTP_PORT": "65536",
		"ATTACHMENT_MAX_BYTES": "1073741825", "ATTACHMENT_MAX_PAGES": "1001", "ATTACHMENT_TIMEOUT": "999ms",
		"ATTACHMENT_TEXT_MAX_CHARS": "0", "ATTACHMENT_EMAIL_TIMEOUT": "59s",
		"AUTH_FAILURES_PER_MINUTE": "0",
		"LLM_MAX_INFLIGHT":         "0", "LLM_DAILY_TOKEN_BUDGET": "-1",
	}
	type ruleCase struct {
		env  map[string]string
		want []string
	}
	cases := []ruleCase{
		{map[string]string{"APP_MODE": "both"}, []string{"APP_MODE: must be all, web or worker"}},
		{map[string]string{"PORT": "-1"}, []string{"PORT: must be 0–65535"}},
		{map[string]string{"PORT": "65536"}, []string{"PORT: must be 0–65535"}},
		{map[string]string{"ENVIRONMENT": "staging"}, []string{"ENVIRONMENT: must be development or production"}},
		{map[string]string{"DATABASE_URL": "mysql://db/x"}, []string{"DATABASE_URL: must be a postgres:// URL"}},
		{map[string]string{"DATABASE_URL": "postgres://db/%zz"}, []string{"DATABASE_URL: must be a postgres:// URL"}},
		{map[string]string{"REDIS_URL": "http://r"}, []string{"REDIS_URL: must be a redis:// or rediss:// URL"}},
		// go-redis cannot open it: Sentinel is redis://…?master_name=…
		{map[string]string{"REDIS_URL": "redis-sentinel://r"}, []string{"REDIS_URL: must be a redis:// or rediss:// URL"}},
		{map[string]string{"REDIS_NAMESPACE": "{ns}"}, []string{"REDIS_NAMESPACE: must be non-empty without braces, colons or spaces"}},
		{map[string]string{"REDIS_NAMESPACE": "a b"}, []string{"REDIS_NAMESPACE: must be non-empty without braces, colons or spaces"}},
		{map[string]string{"ENVIRONMENT": "production", "ADMIN_API_TOKEN": "0123456789abcdef"}, []string{"WEBHOOK_SECRET: required in production"}},
		{map[string]string{"ENVIRONMENT": "production", "WEBHOOK_SECRET": "s"}, []string{"ADMIN_API_TOKEN: required in production"}},
		{map[string]string{"ADMIN_API_TOKEN": "0123456789abcde"}, []string{"ADMIN_API_TOKEN: must be at least 16 characters"}},
		{map[string]string{"MATCH_REVIEW_THRESHOLD": "0.9"}, []string{"MATCH_AUTO_THRESHOLD, MATCH_REVIEW_THRESHOLD: need 0 < review <= auto <= 1"}},
		{map[string]string{"MATCH_REVIEW_THRESHOLD": "0"}, []string{"MATCH_AUTO_THRESHOLD, MATCH_REVIEW_THRESHOLD: need 0 < review <= auto <= 1"}},
		{map[string]string{"MATCH_AUTO_THRESHOLD": "1.1"}, []string{"MATCH_AUTO_THRESHOLD, MATCH_REVIEW_THRESHOLD: need 0 < review <= auto <= 1"}},
		{map[string]string{"MATCH_MIN_GAP": "-0.1"}, []string{"MATCH_MIN_GAP: must be 0–1"}},
		{map[string]string{"MATCH_MIN_GAP": "1.5"}, []string{"MATCH_MIN_GAP: must be 0–1"}},
		{map[string]string{"MATCH_MIN_GAP": "NaN"}, []string{"MATCH_MIN_GAP: must be 0–1"}},
		{map[string]string{"LLM_PROVIDER": "gpt"}, []string{"LLM_PROVIDER: must be claude or rules"}},
		{map[string]string{"LLM_PROVIDER": "claude"}, []string{"ANTHROPIC_API_KEY: required when LLM_PROVIDER=claude"}},
		{map[string]string{"ANTHROPIC_BASE_URL": "api.example"}, []string{"ANTHROPIC_BASE_URL: must be an absolute URL"}},
		{map[string]string{"PUBLIC_BASE_URL": "ftp://host"}, []string{"PUBLIC_BASE_URL: must be an absolute http(s) URL"}},
		{map[string]string{"PUBLIC_BASE_URL": "https://"}, []string{"PUBLIC_BASE_URL: must be an absolute http(s) URL"}},
		{map[string]string{"MONGODB_DATABASE": "portal"}, []string{"MONGODB_URL, MONGODB_DATABASE: set both or neither"}},
		{map[string]string{"SMTP_FROM": "x", "ADMIN_EMAIL": "y", "NOTIFY_EMAIL": "z"}, []string{
			"ADMIN_EMAIL: not a valid e-mail address", "NOTIFY_EMAIL: not a valid e-mail address", "SMTP_FROM: not a valid e-mail address",
		}},
		{map[string]string{"LOG_LEVEL": "loud"}, []string{"LOG_LEVEL: must be debug, info, warn or error"}},
		{map[string]string{"LOG_FORMAT": "xml"}, []string{"LOG_FORMAT: must be json or text"}},
		{map[string]string{"ZENDESK_API_TOKEN": "t"}, []string{"ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_API_TOKEN: set all three or none"}},
		{map[string]string{"ZENDESK_SUBDOMAIN": "kanzlei", "ZENDESK_EMAIL": "a@kanzlei.example"},
			[]string{"ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_API_TOKEN: set all three or none"}},
		{map[string]string{"ZENDESK_SUBDOMAIN": "kanzlei.zendesk.com", "ZENDESK_EMAIL": "a@kanzlei.example", "ZENDESK_API_TOKEN": "t"},
			[]string{"ZENDESK_SUBDOMAIN: must be the subdomain alone (firm for firm.zendesk.com)"}},
		{map[string]string{"ZENDESK_SUBDOMAIN": "kanzlei", "ZENDESK_EMAIL": "Agent <a@kanzlei.example>", "ZENDESK_API_TOKEN": "t"},
			[]string{"ZENDESK_EMAIL: must be a plain e-mail address"}},
		{map[string]string{"ATTACHMENT_ALLOWED_HOSTS": "kanzlei.zendesk.com,*.com"}, []string{
			"ATTACHMENT_ALLOWED_HOSTS: entry 2: must be a comma-separated list of host, host:port, *.domain or *.domain:port",
		}},
		{map[string]string{"ATTACHMENT_ALLOWED_HOSTS": "https://files.example"}, []string{
			"ATTACHMENT_ALLOWED_HOSTS: entry 1: must be a comma-separated list of host, host:port, *.domain or *.domain:port",
		}},
		{map[string]string{"WEBHOOK_UNVERIFIED_MAX_BYTES": "1024"}, []string{
			"WEBHOOK_UNVERIFIED_MAX_BYTES: must be at least WEBHOOK_MAX_BODY_BYTES (one body must fit)"}},
		{map[string]string{"WEBHOOK_UNVERIFIED_MAX_BYTES": "0", "WEBHOOK_MAX_BODY_BYTES": "0"}, []string{
			"WEBHOOK_MAX_BODY_BYTES: out of range", "WEBHOOK_UNVERIFIED_MAX_BYTES: out of range"}},
		{map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, render"}, []string{
			"TRUSTED_PROXIES: must be comma-separated IP addresses or CIDR ranges"}},
		{map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33"}, []string{
			"TRUSTED_PROXIES: must be comma-separated IP addresses or CIDR ranges"}},
		{map[string]string{"ATTACHMENT_EMAIL_TIMEOUT": "10m"}, []string{"ATTACHMENT_EMAIL_TIMEOUT: out of range"}},
	}
	for name, val := range outOfRange {
		cases = append(cases, ruleCase{map[string]string{name: val}, []string{name + ": out of range"}})
	}
	for _, tc := range cases {
		err := load(t, tc.env).Validate()
		var p *config.Problems
		require.ErrorAs(t, err, &p, "%v", tc.env)
		require.Equal(t, tc.want, p.List, "%v", tc.env)
	}
}

// TestRuleEdgesPass checks the accepted edge of each rule above.
func TestRuleEdgesPass(t *testing.T) {
	t.Parallel()
	for _, ok := range []map[string]string{
		{"PORT": "0"}, {"PORT": "65535"}, {"APP_MODE": "web"}, {"ENVIRONMENT": "development"},
		{"DATABASE_URL": "postgresql://db/x"}, {"REDIS_URL": "rediss://r"},
		{"ADMIN_API_TOKEN": "0123456789abcdef"}, {"WORKER_CONCURRENCY": "1024"}, {"JOB_MAX_RETRIES": "0"},
		{"LLM_MAX_INFLIGHT": "1"}, {"LLM_MAX_INFLIGHT": "4096"}, {"LLM_DAILY_TOKEN_BUDGET": "0"},
		{"JOB_MAX_BACKOFF": "15s"}, {"LEASE_DURATION": "1s"}, {"SMTP_PORT": "65535"},
		{"MATCH_REVIEW_THRESHOLD": "0.8"}, {"MATCH_AUTO_THRESHOLD": "1"}, {"MATCH_MIN_GAP": "0"}, {"MATCH_MIN_GAP": "1"},
		{"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}, {"PUBLIC_BASE_URL": "https://matcher.example"},
		{"MONGODB_URL": "mongodb://m", "MONGODB_DATABASE": "portal"},
		{"SMTP_FROM": "Matcher <matcher@kanzlei.example>", "ADMIN_EMAIL": "a@kanzlei.example", "NOTIFY_EMAIL": "n@kanzlei.example"},
		{"LOG_LEVEL": "WARN"}, {"LOG_FORMAT": "text"},
		{"ZENDESK_SUBDOMAIN": "kanzlei-1", "ZENDESK_EMAIL": "a@kanzlei.example", "ZENDESK_API_TOKEN": "t"},
		{"ATTACHMENT_ALLOWED_HOSTS": "kanzlei.zendesk.com, *.zdusercontent.com, 127.0.0.1:8443, [::1]:9443,"},
		{"ATTACHMENT_MAX_BYTES": "1073741824"}, {"ATTACHMENT_MAX_PAGES": "1000"}, {"ATTACHMENT_MAX_PAGES": "1"},
		{"ATTACHMENT_TIMEOUT": "1s"}, {"ATTACHMENT_TEXT_MAX_CHARS": "10000000"},
		{"ATTACHMENT_EMAIL_TIMEOUT": "60s"}, {"ATTACHMENT_EMAIL_TIMEOUT": "9m59s"},
		{"WEBHOOK_UNVERIFIED_MAX_BYTES": "5242880"}, {"AUTH_FAILURES_PER_MINUTE": "1"},
		{"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7,fd00::/8,"},
	} {
		require.NoError(t, load(t, ok).Validate(), "%v", ok)
	}
}

// TestEverySettingIsReadFromTheEnvironment sets each variable to a value
// unlike its default and checks that its field took it: a setting left out
// of the defaults would still be read from a file, never from the environment.
func TestEverySettingIsReadFromTheEnvironment(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[config.Config]()
	vars := map[string]string{}
	for field := range typ.Fields() {
		val := "from-env"
		switch {
		case field.Type == reflect.TypeFor[time.Duration]():
			val = "7s"
		case field.Type.Kind() == reflect.Bool:
			val = "false" // AUTO_MIGRATE defaults to true
		case field.Type.Kind() == reflect.Int || field.Type.Kind() == reflect.Int64:
			val = "7"
		case field.Type.Kind() == reflect.Float64:
			val = "0.55" // unlike every float default (AMOUNT_CHANGE_REVIEW is 0.5)
		}
		vars[field.Tag.Get("mapstructure")] = val
	}
	def, got := reflect.ValueOf(*load(t, nil)), reflect.ValueOf(*load(t, vars))
	for i := range typ.NumField() {
		require.NotEqual(t, def.Field(i).Interface(), got.Field(i).Interface(), typ.Field(i).Tag.Get("mapstructure"))
	}
}

// TestEnvExampleListsEverySettingWithItsDefault keeps the README's promise
// that .env.example holds every variable with its default: the file names
// exactly the settings of Config, and loading it changes nothing.
func TestEnvExampleListsEverySettingWithItsDefault(t *testing.T) {
	t.Parallel()
	const path = "../.env.example"
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var listed []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			name, _, ok := strings.Cut(line, "=")
			require.True(t, ok, "%s: %q is not NAME=value", path, line)
			listed = append(listed, name)
		}
	}
	require.NoError(t, sc.Err())

	var settings []string
	for field := range reflect.TypeFor[config.Config]().Fields() {
		settings = append(settings, field.Tag.Get("mapstructure"))
	}
	slices.Sort(listed)
	slices.Sort(settings)
	require.Equal(t, settings, listed)

	// Viper knows a .env file by its extension.
	copied := filepath.Join(t.TempDir(), ".env")
	require.NoError(t, os.WriteFile(copied, raw, 0o600))
	require.Equal(t, load(t, nil), load(t, map[string]string{"CONFIG_FILE": copied}))
}

// TestAttachmentFetch maps the Zendesk settings into the downloader's
// configuration; plain http is for development only.
func TestAttachmentFetch(t *testing.T) {
	t.Parallel()
	zendesk := map[string]string{
		"ZENDESK_SUBDOMAIN": "kanzlei", "ZENDESK_EMAIL": "a@kanzlei.example", "ZENDESK_API_TOKEN": "t",
		"ATTACHMENT_ALLOWED_HOSTS": "kanzlei.zendesk.com",
	}
	dev := load(t, zendesk).AttachmentFetch()
	require.Equal(t, "kanzlei", dev.Subdomain)
	require.Equal(t, "a@kanzlei.example", dev.Email)
	require.Equal(t, "t", dev.APIToken)
	require.Equal(t, "kanzlei.zendesk.com", dev.AllowedHosts)
	require.True(t, dev.AllowHTTP)

	prod := maps.Clone(zendesk)
	prod["ENVIRONMENT"] = "production"
	require.False(t, load(t, prod).AttachmentFetch().AllowHTTP)
}

func TestProxiesList(t *testing.T) {
	t.Parallel()
	cfg := load(t, map[string]string{"TRUSTED_PROXIES": " 10.0.0.0/8, ,192.168.1.7 ,"})
	require.NoError(t, cfg.Validate())
	require.Equal(t, []string{"10.0.0.0/8", "192.168.1.7"}, cfg.Proxies())
}
