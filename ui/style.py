"""Theme and CSS: readable source cards, and chat + sources side by side that stack on a phone."""

from __future__ import annotations

import gradio as gr

CSS = """
.gradio-container { max-width: 1360px !important; margin: 0 auto !important; min-width: 0 !important;
  width: 100% !important; }
.gradio-container .main { min-width: 0 !important; }
#app-header h1 { margin: 0 0 2px 0; font-size: 1.55rem; }
#app-header p { margin: 0; color: var(--body-text-color-subdued); }
#status-banner:empty { display: none; }

/* chat and sources side by side; stacked under 800px */
#chat-row { gap: 16px; align-items: flex-start; flex-wrap: wrap; }
#chat-col { flex: 3 1 460px !important; min-width: 0 !important; }
#sources-col { flex: 2 1 340px !important; min-width: 0 !important; }
#ask-row { gap: 8px; align-items: stretch; flex-wrap: nowrap; }
#ask-btn { max-width: 110px; }
#filter-row { gap: 8px; align-items: flex-end; flex-wrap: wrap; }
#filter-row > * { flex: 1 1 140px !important; }
#new-chat { align-self: flex-end; min-height: 40px; }
@media (max-width: 800px) {
  #chat-row { flex-direction: column; }
  #chat-col, #sources-col { flex: 1 1 auto !important; width: 100% !important; }
  .gradio-container { padding: 0 4px !important; }
  .tab-container button { padding-left: 10px !important; padding-right: 10px !important; }
  #app-header h1 { font-size: 1.25rem; }
}

/* sources panel */
.panel-title h3 { margin: 4px 0 0 0; }
#sources { max-height: 760px; overflow-y: auto; }
.sources { display: flex; flex-direction: column; gap: 10px; }
.src-q { font-size: .85rem; color: var(--body-text-color-subdued); }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 10px 12px;
  background: var(--background-fill-primary); box-shadow: 0 1px 2px rgba(0,0,0,.04); }
.src-head { display: flex; flex-wrap: wrap; gap: 6px 8px; align-items: center; font-size: .92rem; }
.src-n { background: var(--color-accent); color: #fff; border-radius: 6px; padding: 0 7px;
  font-weight: 700; font-size: .8rem; line-height: 1.5; }
.pill { border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 0 8px;
  font-size: .75rem; color: var(--body-text-color-subdued); }
.src-loc { margin-left: auto; font-family: var(--font-mono); font-size: .78rem; white-space: nowrap;
  color: var(--body-text-color-subdued); }
.src-section { font-size: .76rem; color: var(--body-text-color-subdued); margin: 4px 0 2px; }
.src-quote { margin: 6px 0; padding: 4px 0 4px 10px; border-left: 3px solid var(--color-accent);
  font-size: .92rem; line-height: 1.45; }
.sources mark, .ctx mark { background: #fde68a; color: #111; padding: 0 2px; border-radius: 3px; }
.src-context summary { cursor: pointer; font-size: .8rem; color: var(--link-text-color); }
.ctx { margin-top: 6px; font-size: .8rem; line-height: 1.5;
  max-height: 240px; overflow: auto; border-radius: 8px; background: var(--background-fill-secondary);
  padding: 6px 0; }
.ctx-line { display: flex; gap: 8px; padding: 0 8px; }
.ctx-line.cited { background: rgba(253, 230, 138, .35); }
.ctx-line .ln { flex: 0 0 3.4em; text-align: right; color: var(--body-text-color-subdued); user-select: none;
  font-family: var(--font-mono); font-size: .72rem; padding-top: 1px; }
.ctx-line .lt { white-space: pre-wrap; word-break: break-word; }
#sources table.cmp { width: 100%; margin: 0; border: 1px solid var(--border-color-primary) !important;
  border-radius: 10px; border-collapse: separate; border-spacing: 0; overflow: hidden; font-size: .88rem; }
#sources table.cmp th, #sources table.cmp td { border: none !important; margin: 0 !important;
  padding: 6px 10px !important;
  border-bottom: 1px solid var(--border-color-primary) !important; text-align: left;
  background: var(--background-fill-primary); }
#sources table.cmp tr:last-child td { border-bottom: none !important; }
#sources table.cmp th { font-size: .72rem; text-transform: uppercase; letter-spacing: .04em;
  color: var(--body-text-color-subdued); }
.muted { color: var(--body-text-color-subdued); }
/* tables in the body font: monospace fonts mangle stacked Vietnamese diacritics */
#compare-table *, #documents-table *, #eval-scores * { font-family: var(--font) !important; }

/* evals tab */
#eval-pick { gap: 16px; align-items: flex-start; flex-wrap: wrap; }
#eval-run-row { gap: 12px; align-items: center; flex-wrap: wrap; }
#eval-run-row > * { flex: 1 1 240px !important; }
#eval-results { gap: 16px; align-items: flex-start; flex-wrap: wrap; }
#eval-downloads { gap: 8px; flex-wrap: wrap; }
#eval-downloads > * { flex: 0 1 auto !important; min-width: 0 !important; }
#eval-history *, #eval-scores * { font-family: var(--font) !important; }
.eval-problems { max-height: 320px; overflow: auto; margin-top: 6px; }
.eval-problems table, table.moved { width: 100%; border-collapse: collapse; font-size: .86rem;
  border: none !important; }
.eval-problems th, .eval-problems td, table.moved th, table.moved td { text-align: left; vertical-align: top;
  padding: 4px 8px !important; border: none !important; border-bottom: 1px solid var(--border-color-primary) !important;
  overflow-wrap: anywhere; background: var(--background-fill-primary); }
.eval-problems { overflow-x: auto; }
.eval-problems td:first-child, .eval-problems th:first-child { white-space: nowrap; font-family: var(--font-mono); }
.eval-problems td:nth-child(2) { white-space: nowrap; overflow-wrap: normal; }
.eval-failures { display: flex; flex-direction: column; gap: 12px; }
.eval-failures h3 { margin: 8px 0 0; }
.eval-fail { border: 1px solid var(--border-color-primary); border-left: 4px solid #dc2626; border-radius: 12px;
  padding: 10px 12px; background: var(--background-fill-primary); min-width: 0; }
.eval-fail summary { cursor: pointer; display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.fail-q { font-weight: 600; margin: 8px 0 4px; overflow-wrap: anywhere; }
.fail-facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 6px 0;
  font-size: .9rem; }
.fail-facts dt { color: var(--body-text-color-subdued); }
.fail-facts dd { margin: 0; overflow-wrap: anywhere; min-width: 0; }
.fail-answer { white-space: pre-wrap; }
.fig { display: inline-block; border-radius: 6px; padding: 0 6px; margin: 0 4px 2px 0;
  background: #dcfce7; color: #166534; font-size: .85rem; }
.fig-missing { background: #fee2e2; color: #991b1b; }
.fail-sources { display: flex; flex-direction: column; gap: 8px; margin-top: 6px; }
#eval-chart .role-legend { display: none; }
.eval-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: .82rem; padding: 0 8px; }
.eval-legend i { display: inline-block; width: 11px; height: 11px; border-radius: 3px; margin-right: 5px;
  vertical-align: -1px; }
.moved-scroll { overflow-x: auto; }
table.moved td:first-child { min-width: 11rem; overflow-wrap: break-word; }
table.moved th { white-space: nowrap; }
table.moved td.ok { color: #166534; white-space: nowrap; }
table.moved td.ko { color: #991b1b; white-space: nowrap; }
table.moved tr.broke td:first-child { border-left: 3px solid #dc2626; }
table.moved tr.fixed td:first-child { border-left: 3px solid #059669; }
@media (max-width: 640px) {
  .fail-facts { grid-template-columns: 1fr; }
  .fail-facts dd { margin-bottom: 4px; }
}
/* Compare matrix and Scorecard: the table scrolls inside its box, the page never sideways */
.mx-wrap { max-width: 100%; overflow-x: auto; border: 1px solid var(--border-color-primary); border-radius: 10px; }
#compare-matrix .mx-wrap { max-height: 72vh; overflow: auto; }  /* header row and indicator column stay */
table.mx { border-collapse: separate; border-spacing: 0; width: 100%; font-size: .86rem; margin: 0 !important;
  border: none !important; padding: 0 !important; }
table.mx tr { border: none !important; }
table.mx th, table.mx td { border: none !important; border-bottom: 1px solid var(--border-color-primary) !important;
  padding: 6px 8px !important; text-align: left; vertical-align: top; background: var(--background-fill-primary);
  min-width: 96px; }
table.mx thead th { font-size: .74rem; text-transform: uppercase; letter-spacing: .03em; white-space: nowrap;
  color: var(--body-text-color-subdued); position: sticky; top: 0; z-index: 1; }
table.mx tbody th { position: sticky; left: 0; z-index: 1; min-width: 170px; max-width: 240px;
  box-shadow: 1px 0 0 var(--border-color-primary); }
table.mx thead th:first-child { position: sticky; left: 0; z-index: 2; }
table.mx tr:last-child th, table.mx tr:last-child td { border-bottom: none !important; }
.mx-en { font-weight: 600; }
.mx-vi, .mx-sec, .mx-more { font-size: .76rem; color: var(--body-text-color-subdued); }
.mx-cell details summary { cursor: pointer; list-style: none; }
.mx-cell details summary::-webkit-details-marker { display: none; }
.mx-fig { display: block; font-weight: 600; }
.mx-cite { display: block; font-size: .72rem; color: var(--link-text-color); white-space: nowrap; }
.mx-quote { margin: 4px 0; padding: 2px 0 2px 8px; border-left: 3px solid var(--color-accent); font-size: .8rem;
  line-height: 1.4; min-width: 180px; }
.mx-count { margin-left: 6px; padding: 0 5px; border-radius: 999px; font-size: .66rem;
  background: var(--background-fill-secondary); color: var(--body-text-color-subdued); }
.mx-more { margin-top: 6px; }
.mx-more ul { margin: 2px 0 0 0; padding-left: 14px; }
.mx-more li { margin: 0; }
.mx-also-cite { font-size: .7rem; color: var(--link-text-color); white-space: nowrap; }
.mx-missing { color: var(--body-text-color-subdued); text-align: center !important; }
.mx-summary, .mx-chart-note { margin: 2px 0; font-size: .9rem; }
table.sc tr.sc-group th { position: static; max-width: none; box-shadow: none; font-size: .76rem;
  text-transform: uppercase; letter-spacing: .03em; color: var(--color-accent);
  background: var(--background-fill-secondary); }
.sc-counts { margin: 4px 0 8px; display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.sc-counts .badge, table.sc .badge { white-space: nowrap; }
.sc-met { background: #dcfce7; color: #166534; }
.sc-not-met { background: #fee2e2; color: #991b1b; }
.sc-none { background: var(--background-fill-secondary); color: var(--body-text-color-subdued);
  border: 1px solid var(--border-color-primary); }
#compare-controls, #scorecard-controls { align-items: flex-end; flex-wrap: wrap; gap: 8px; }
@media (max-width: 800px) {
  table.mx tbody th { min-width: 104px; max-width: 118px; font-size: .8rem; overflow-wrap: break-word; width: 118px; }
  table.mx th, table.mx td { padding: 5px 6px !important; min-width: 84px; }
  /* the scorecard as one card per target: six columns do not fit a phone */
  table.sc, table.sc tbody, table.sc th, table.sc td { display: block; min-width: 0 !important; max-width: none; }
  table.sc thead { display: none; }
  table.sc tr { display: grid; grid-template-columns: 1fr 1fr; padding: 4px 0;
    box-shadow: 0 1px 0 var(--border-color-primary); background: var(--background-fill-primary); }
  table.sc tbody th { grid-column: 1 / -1; position: static; box-shadow: none; max-width: none; }
  table.sc td, table.sc tbody th { border-bottom: none !important; padding: 3px 10px !important; }
  table.sc td::before { content: attr(data-label); display: block; font-size: .68rem; text-transform: uppercase;
    letter-spacing: .03em; color: var(--body-text-color-subdued); }
}

/* badges in the chat, notices */
.badge { display: inline-block; border-radius: 999px; padding: 1px 10px; font-size: .75rem; font-weight: 600; }
.badge-muted { background: var(--background-fill-secondary); color: var(--body-text-color-subdued);
  border: 1px solid var(--border-color-primary); }
.badge-error { background: #fee2e2; color: #991b1b; }
.badge-ok { background: #dcfce7; color: #166534; }
.notice { border-radius: 10px; padding: 8px 12px; font-size: .92rem; }
.notice-info { background: #ecfdf5; color: #065f46; border: 1px solid #a7f3d0; }
.notice-ok { background: #dcfce7; color: #166534; }
.notice-error { background: #fee2e2; color: #991b1b; border: 1px solid #fecaca; }
"""


def theme() -> gr.themes.Base:
    """A calm, readable theme (green for Sơn La's forests), with local fonts: no Google Fonts request."""
    return gr.themes.Soft(primary_hue="emerald", neutral_hue="slate",
                          font=["system-ui", "Segoe UI", "Roboto", "Noto Sans", "sans-serif"],
                          font_mono=["ui-monospace", "DejaVu Sans Mono", "monospace"])
