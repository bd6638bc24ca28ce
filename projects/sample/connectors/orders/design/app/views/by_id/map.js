function (doc) {
  // Listeners query this view with the changed ids as keys.
  if (doc.type === 'order') {
    emit(doc._id, doc.status);
  }
}
