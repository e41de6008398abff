// The console's live page: the event stream (Server-Sent Events, resumed by the browser with Last-Event-ID).
(function () {
  var table = document.getElementById('live');
  if (!table || !window.EventSource) { return; }
  var body = table.tBodies[0];
  var source = new EventSource(table.getAttribute('data-stream'));
  function add(e) {
    var row = body.insertRow(0);
    [e.lastEventId, e.type, e.data].forEach(function (text) { row.insertCell().textContent = text; });
    while (body.rows.length > 200) { body.deleteRow(body.rows.length - 1); }
  }
  ['file.discovered', 'file.delivered', 'file.partially_delivered', 'file.rejected', 'file.dead_lettered', 'file.available', 'delivery.dead', 'message'].forEach(function (type) {
    source.addEventListener(type, add);
  });
  document.addEventListener('htmx:beforeSwap', function () { source.close(); }, { once: true });
})();
