function (doc, req) {
  return doc['~c8oAcl'] === req.userCtx.name;
}
