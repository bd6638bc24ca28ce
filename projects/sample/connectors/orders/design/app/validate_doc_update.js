function (newDoc, oldDoc, userCtx, secObj) {
  if (newDoc._deleted) return;
  if (!newDoc.type) {
    throw({ forbidden: 'every document needs a type' });
  }
  if (newDoc.type === 'order' && typeof newDoc.total !== 'number') {
    throw({ forbidden: 'an order needs a numeric total' });
  }
}
