package rules

import (
	"strings"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// textSource is one text the rules read besides the subject: the body or
// the text of an attachment.
type textSource struct {
	name     string // models.SourceBody or models.AttachmentSource(position)
	filename string // the attachment's name, safe to show
	text     foldedText
}

func (s textSource) attachment() bool { return s.name != models.SourceBody }

// Bounds on the attachment texts one email's rules read: statements run to
// a few pages, and every byte read costs time in each scan.
const (
	maxAttachments          = 20
	maxAttachmentScanBytes  = 256 << 10
	maxAttachmentsScanBytes = 1 << 20
	maxFilenameRunes        = 120
)

// prepareAttachments makes the attachments' texts safe to scan (see
// prepareText), repairs OCR's confusions (see repairOCR) and folds them,
// skipping empty ones and stopping at the bounds.
func prepareAttachments(atts []models.AttachmentText) []textSource {
	var out []textSource
	budget := maxAttachmentsScanBytes
	for _, a := range atts {
		if len(out) == maxAttachments || budget <= 0 {
			break
		}
		text := prepareTextN(a.Text, min(maxAttachmentScanBytes, budget))
		if strings.TrimSpace(text) == "" {
			continue
		}
		budget -= len(text)
		out = append(out, textSource{
			name:     models.AttachmentSource(a.Position),
			filename: capRunes(oneLine(prepareText(firstLine(a.Filename))), maxFilenameRunes),
			text:     foldText(repairOCR(text)),
		})
	}
	return out
}

// oneLine makes a name safe to show in a line: blank runs one space, no
// control characters.
func oneLine(s string) string {
	var b strings.Builder
	appendCollapsed(&b, s, false)
	return b.String()
}
