"""The operator console: server-rendered HTML pages under ``/console``.

Pages read through the stores in ``flyte/`` and render Jinja2 templates from
``api/console/html`` with autoescape on; everything from packs is hostile text.

Stable hooks for browser tests (keep them when restyling):

- ``id="nav"``: the navigation; each link ``class="nav-link"``, the current one
  also ``class="current"``.
- ``id="page-title"``: every page's ``<h1>``.
- ``id="not-found"``: the 404 page's message.
- Overview: ``id="overview"``; counts in ``[data-count="<name>"]`` elements that
  console.js refreshes from ``/console/overview.json``; ``id="health"``,
  ``id="latest-failures"``.
- Lists (filters: Events ``pack``, ``name``, ``status``, ``since``, ``until``;
  Executions those of /v1/audit/flows: ``flowName``, ``stepId``, ``actionName``,
  ``actionPackName``, ``actionPackLabels``; all ``offset`` and ``limit``):
  ``table.listing`` with one ``tr.row`` per item; paging links
  ``a#next-page`` and ``a#first-page``; filter form ``form#filters``.
- Pack page: ``id="pack-labels"``, ``id="pack-commands"``, ``id="pack-events"``,
  ``id="waiting-actions"``, ``id="pending-actions"``.
- Flow page: ``id="flow-graph"`` (an SVG; each step a ``g.node`` with
  ``data-step="<id>"``, each dependsOn arrow a ``path.edge``), ``id="flow-steps"``
  (one ``section.step-detail`` per step), ``id="flow-versions"``,
  ``a#flow-executions``.
- Event page: ``id="event-outcomes"``: one ``.flow-outcome`` per flow holding one
  ``.step`` per step with class ``fired``, ``skipped`` or ``failed``;
  a step's template warnings in its ``ul.warnings``; ``id="event-payload"``,
  ``id="event-status"``, ``a#replay-of``,
  ``form#replay`` (POST, ``csrf_token``), ``id="event-replays"``.
- Execution page: ``id="timeline"`` with one ``li.timeline-entry`` per event
  (``.entry-event``, the trigger's also ``.entry-trigger``) holding its step
  evaluations (``div.step.entry-evaluation`` with ``fired``, ``skipped`` or
  ``failed`` and ``data-step``), and one per action (``.entry-action`` with
  ``data-step`` and ``data-action``).
- Datastore item: ``id="datastore-value"`` with class ``text``, ``json`` or
  ``binary``.
- Status badges: ``span.badge`` plus ``badge-<status>`` in lower case.
"""
