package workers

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRedisOptionsFromURL(t *testing.T) {
	t.Parallel()
	cfg := RedisConfig{PoolSize: 12, DialTimeout: 5 * time.Second, SocketTimeout: 5 * time.Second}

	cfg.URL = "rediss://user:secret@cache.example.com:6380/2"
	o, err := redisOptions(cfg)
	require.NoError(t, err)
	require.Equal(t, []string{"cache.example.com:6380"}, o.Addrs)
	require.NotNil(t, o.TLSConfig, "rediss:// turns TLS on")
	require.Equal(t, 2, o.DB)
	require.Equal(t, "user", o.Username)
	require.Equal(t, 12, o.PoolSize)
	require.Equal(t, 5*time.Second, o.ReadTimeout)

	cfg.URL = "redis://s1:26379?master_name=mymaster&addrs=s2:26379,s3:26379"
	o, err = redisOptions(cfg)
	require.NoError(t, err)
	require.Equal(t, "mymaster", o.MasterName, "Sentinel is a configuration change")
	require.Equal(t, []string{"s1:26379", "s2:26379", "s3:26379"}, o.Addrs)

	cfg.URL = "redis://n1:7000?cluster=true&addrs=n2:7000"
	o, err = redisOptions(cfg)
	require.NoError(t, err)
	require.True(t, o.IsClusterMode)

	cfg.URL = "redis://h:6379?bogus=1"
	_, err = redisOptions(cfg)
	require.Error(t, err)
}
