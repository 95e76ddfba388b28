package config_test

import (
	"maps"
	"os"
	"path/filepath"
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
	require.Equal(t, 4, cfg.WorkerConcurrency)
	require.Equal(t, 5, cfg.JobMaxRetries)
	require.Equal(t, 15*time.Second, cfg.JobMinBackoff)
	require.Equal(t, 5*time.Minute, cfg.JobMaxBackoff)
	require.Equal(t, 10*time.Minute, cfg.JobTimeout)
	require.Equal(t, 60*time.Second, cfg.LeaseDuration)
	require.Equal(t, 30*time.Second, cfg.ReaperInterval)
	require.Equal(t, 587, cfg.SMTPPort)
	require.True(t, cfg.AutoMigrate)
	require.Equal(t, "info", cfg.LogLevel)
	require.Equal(t, "json", cfg.LogFormat)
	require.Equal(t, "rules", cfg.LLMProvider)
	require.Empty(t, cfg.WebhookSecret)
	require.Empty(t, cfg.AdminAPIToken)
	require.True(t, cfg.RunsWeb())
	require.True(t, cfg.RunsWorker())
}

func TestEnvOverrides(t *testing.T) {
	t.Parallel()
	cfg := load(t, map[string]string{
		"APP_MODE":               "worker",
		"PORT":                   "9090",
		"ENVIRONMENT":            "production",
		"DATABASE_URL":           "postgres://u@db:5432/x?sslmode=disable",
		"REDIS_URL":              "rediss://cache:6380/1",
		"REDIS_NAMESPACE":        "ns1",
		"WEBHOOK_SECRET":         "whsec",
		"WEBHOOK_TOLERANCE":      "90s",
		"WEBHOOK_MAX_BODY_BYTES": "1024",
		"ADMIN_API_TOKEN":        "0123456789abcdef",
		"WORKER_CONCURRENCY":     "16",
		"JOB_MAX_RETRIES":        "0",
		"JOB_MIN_BACKOFF":        "1s",
		"JOB_MAX_BACKOFF":        "1h30m",
		"JOB_TIMEOUT":            "2m",
		"LEASE_DURATION":         "45s",
		"REAPER_INTERVAL":        "500ms",
		"SMTP_PORT":              "2525",
		"AUTO_MIGRATE":           "false",
		"LOG_LEVEL":              "DEBUG",
		"LOG_FORMAT":             "text",
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
	}
	cfg := load(t, base)
	err := cfg.Validate()
	noSecrets(t, err)
	require.Contains(t, err.Error(), "ADMIN_API_TOKEN: must be at least 16 characters")

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
