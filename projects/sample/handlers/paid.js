// Local handler for the `paid` listener: receives the changed docs, may read and post docs.
function handle(docs, api) {
  docs.forEach(function (doc) {
    api.log('paid order ' + doc._id + ' total ' + doc.total);
  });
}
