package models_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// designTable is DESIGN.md §4 written out independently of the code: to-state
// → the states it is entered from. "processing (reaper)" covers every leased
// stage, since the reaper returns any expired lease to queued; "processing:
// queued" also admits received, because a worker may claim an email whose
// queued mark was lost (§3: claim WHERE status IN ('queued','received')).
var designTable = map[models.Status][]models.Status{
	models.StatusReceived: nil, // only the webhook's INSERT
	models.StatusQueued: {
		models.StatusReceived, models.StatusRetrying, models.StatusFailed,
		models.StatusProcessing, models.StatusParsed, models.StatusReadingAttachments, models.StatusExtracting,
		models.StatusExtracted, models.StatusMatching,
	},
	models.StatusProcessing:         {models.StatusQueued, models.StatusReceived},
	models.StatusParsed:             {models.StatusProcessing},
	models.StatusReadingAttachments: {models.StatusParsed},
	models.StatusExtracting:         {models.StatusParsed, models.StatusReadingAttachments},
	models.StatusExtracted:          {models.StatusExtracting},
	models.StatusMatching:           {models.StatusExtracted},
	models.StatusRetrying: {
		models.StatusProcessing, models.StatusParsed, models.StatusReadingAttachments, models.StatusExtracting,
		models.StatusExtracted, models.StatusMatching,
	},
	// processing: fast stages recorded with the final write (§4)
	models.StatusCompleted:        {models.StatusMatching, models.StatusProcessing},
	models.StatusNotCreditorReply: {models.StatusExtracted, models.StatusProcessing},
	models.StatusFailed: {
		models.StatusProcessing, models.StatusParsed, models.StatusReadingAttachments, models.StatusExtracting,
		models.StatusExtracted, models.StatusMatching, models.StatusRetrying,
		models.StatusReceived, // received: a signed delivery whose content is unusable (§5)
	},
}

func TestCanTransitionMatchesDesign(t *testing.T) {
	t.Parallel()
	require.Len(t, designTable, len(models.AllStatuses))
	for _, to := range models.AllStatuses {
		for _, from := range models.AllStatuses {
			want := false
			for _, f := range designTable[to] {
				if f == from {
					want = true
				}
			}
			require.Equal(t, want, models.CanTransition(from, to), "%s → %s", from, to)
		}
		require.ElementsMatch(t, designTable[to], models.From(to), "From(%s)", to)
	}
}

func TestNoTransitionOutOfCompletedStates(t *testing.T) {
	t.Parallel()
	for _, from := range []models.Status{models.StatusCompleted, models.StatusNotCreditorReply} {
		for _, to := range models.AllStatuses {
			require.False(t, models.CanTransition(from, to), "%s → %s", from, to)
		}
	}
	// Failed leaves only by a manual retry.
	for _, to := range models.AllStatuses {
		require.Equal(t, to == models.StatusQueued, models.CanTransition(models.StatusFailed, to), "failed → %s", to)
	}
}

func TestUnknownStatuses(t *testing.T) {
	t.Parallel()
	require.False(t, models.CanTransition("bogus", models.StatusQueued))
	require.False(t, models.CanTransition(models.StatusQueued, "bogus"))
	require.Empty(t, models.From("bogus"))
	require.False(t, models.Status("bogus").Valid())
	require.False(t, models.Status("").Valid())
	for _, s := range models.AllStatuses {
		require.True(t, s.Valid(), s)
	}
}

func TestTerminal(t *testing.T) {
	t.Parallel()
	terminal := map[models.Status]bool{
		models.StatusCompleted: true, models.StatusNotCreditorReply: true, models.StatusFailed: true,
	}
	for _, s := range models.AllStatuses {
		require.Equal(t, terminal[s], s.Terminal(), s)
	}
	for _, s := range models.ActiveStages {
		require.False(t, s.Terminal(), s)
	}
}

func TestStateSets(t *testing.T) {
	t.Parallel()
	require.ElementsMatch(t, []models.Status{models.StatusReceived, models.StatusQueued}, models.Claimable())
	require.ElementsMatch(t, []models.Status{models.StatusReceived, models.StatusQueued, models.StatusRetrying}, models.Waiting())
	for _, s := range models.Waiting() {
		require.False(t, s.Leased() || s.Terminal(), s)
	}
}
