// What the signed-in role may do, on the page (issue 13): every control that changes something
// carries data-needs="<permission>" and is hidden without it, also controls drawn later (alert
// buttons, dialogs). The hub refuses the same requests anyway (403); this keeps a viewer from
// being offered them at all. Until a sign-in names its permissions nothing is granted, so a
// panel that polls while shown (payments) cannot ask before its role is known: between the login
// reply and /api/auth/me it would ask with a cookie its role may not use, and get a 403.
let granted = new Set()
let observer

function apply(root) {
  if (root.matches?.('[data-needs]')) root.hidden = !granted.has(root.dataset.needs)
  for (const el of root.querySelectorAll?.('[data-needs]') ?? []) el.hidden = !granted.has(el.dataset.needs)
}

export function applyPermissions(permissions) {
  granted = new Set(permissions)
  apply(document)
  observer?.disconnect()
  observer = new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) if (node.nodeType === 1) apply(node)
  })
  observer.observe(document.body, { childList: true, subtree: true })
}

apply(document)
