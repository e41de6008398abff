// The console's live page: the event stream (Server-Sent Events, resumed by the browser with Last-Event-ID), one
// row per event, newest first: when, what, whose, which file (a link to its life) and where it stands.
(function () {
  var table = document.getElementById('live');
  if (!table || !window.EventSource) { return; }
  var body = table.tBodies[0];
  var source = new EventSource(table.getAttribute('data-stream'));
  function cell(row, text) { row.insertCell().textContent = text == null ? '' : String(text); }
  function add(e) {
    var event;
    try { event = JSON.parse(e.data); } catch (err) { event = {}; }
    var row = body.insertRow(0);
    cell(row, (event.time || '').replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
    cell(row, e.type);
    cell(row, event.tenant);
    cell(row, event.upstream);
    var file = row.insertCell();
    if (event.fileId != null) {
      var link = document.createElement('a');
      link.href = '/console/files/' + encodeURIComponent(event.fileId);
      link.textContent = event.fileId + ' ' + (event.fileName || '');
      file.appendChild(link);
    }
    cell(row, event.state);
    cell(row, event.reason);
    while (body.rows.length > 200) { body.deleteRow(body.rows.length - 1); }
  }
  ['file.discovered', 'file.delivered', 'file.partially_delivered', 'file.rejected', 'file.dead_lettered',
   'file.available', 'delivery.dead', 'message'].forEach(function (type) { source.addEventListener(type, add); });
  document.addEventListener('htmx:beforeSwap', function () { source.close(); }, { once: true });
})();
