//! Page furniture: the layout (maud templates, which escape every value
//! they are given), badges and buttons, and the little script that sends
//! forms to the API with the session's CSRF token.

use maud::{DOCTYPE, Markup, html};

/// The dashboard's stylesheet, served at `/assets/war-room.css`.
pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;color:#212529}\
header{display:flex;justify-content:space-between;align-items:center;border-bottom:2px solid #c92a2a;margin-bottom:1em}\
header a{color:#c92a2a;text-decoration:none;font-weight:700}\
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}td,th{border-bottom:1px solid #dee2e6;padding:4px 8px;text-align:left;vertical-align:top}\
.badge{display:inline-block;padding:1px 8px;border-radius:9px;background:#e9ecef;font-size:.85em}\
.s-awaiting_approval,.s-running{background:#ffe066}.s-succeeded,.s-mined,.s-published,.s-passed{background:#b2f2bb}.s-failed,.s-reverted{background:#ffa8a8}\
.drill{background:#d0bfff}.hash{font-family:ui-monospace,monospace;font-size:1.05em;word-break:break-all;background:#fff3bf;padding:6px;border:1px solid #fab005}\
button{padding:4px 12px;cursor:pointer}form.inline{display:inline}#flash{min-height:1.4em;font-weight:600}#flash.err{color:#c92a2a}#flash.ok{color:#2b8a3e}\
section{margin-bottom:1.5em}.banner-danger{background:#c92a2a;color:#fff;padding:.5em 1em;border-radius:4px}.blocking{color:#c92a2a;font-weight:600}textarea{width:100%;min-height:5em}code{font-size:.9em}.muted{color:#868e96}";

/// Submits every `form[data-api]` as JSON to its API path with the CSRF
/// token, shows the answer in `#flash`, and refreshes the live part. Served
/// at `/assets/war-room.js`, so the pages' CSP allows no inline script.
pub(crate) const SCRIPT: &str = r#"
const csrf = document.querySelector('meta[name=csrf]')?.content || '';
async function send(form) {
  const data = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === 'checkbox') { if (el.checked) (data[el.name] ||= []).push(el.value); continue; }
    if (el.dataset.list !== undefined) { data[el.name] = el.value.split(',').map(s => s.trim()).filter(Boolean); continue; }
    data[el.name] = el.value;
  }
  const flash = document.getElementById('flash');
  const res = await fetch(form.dataset.api, {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}, body: JSON.stringify(data)});
  let body = {};
  try { body = await res.json(); } catch (e) {}
  flash.className = res.ok ? 'ok' : 'err';
  flash.textContent = res.ok ? (form.dataset.done || body.message || 'done') : ('refused: ' + (body.error || res.status));
  if (res.ok) { await refresh(); if (form.dataset.reload !== undefined) location.reload(); }
}
document.addEventListener('submit', e => {
  const form = e.target.closest('form[data-api]');
  if (!form) return;
  e.preventDefault();
  send(form);
});
async function refresh() {
  const live = document.getElementById('live');
  if (!live || !live.dataset.src) return;
  const res = await fetch(live.dataset.src, {credentials: 'same-origin'});
  if (res.ok) live.innerHTML = await res.text();
}
if (document.getElementById('live')) setInterval(refresh, 2000);
"#;

/// What every page's head starts with.
pub(crate) fn head_start(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width";
        title { (title) }
    }
}

/// A whole page. `csrf` is empty on pages without a session.
pub(crate) fn page(title: &str, member: Option<&str>, csrf: &str, body: &Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                (head_start(title))
                meta name="csrf" content=(csrf);
                link rel="stylesheet" href="/assets/war-room.css";
                script src="/assets/war-room.js" defer {}
            }
            body {
                header {
                    a href="/" { "firebreak war room" }
                    @if let Some(m) = member {
                        span {
                            "signed in as " b #who { (m) } " "
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(csrf);
                                button #logout { "log out" }
                            }
                        }
                    }
                }
                p #flash {}
                (body)
            }
        }
    }
    .into_string()
}

/// A status badge.
pub(crate) fn badge(text: &str) -> Markup {
    html! { span class={ "badge s-" (text) } { (text) } }
}

/// A button that POSTs `{}` (or the form's fields) to an API path.
pub(crate) fn action_button(api: &str, label: &str, id: &str) -> Markup {
    html! { form.inline data-api=(api) { button id=(id) { (label) } } }
}

/// The red DRILL mark.
pub(crate) fn drill_badge() -> Markup {
    html! { " " span.badge.drill { "DRILL" } }
}

/// Renders a unix-ms time as UTC text.
pub(crate) fn time(ms: u64) -> String {
    jiff::Timestamp::from_millisecond(i64::try_from(ms).unwrap_or(0))
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}
