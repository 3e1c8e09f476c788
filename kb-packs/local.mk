# Knowledge-base packs, installed as $(pkgdatadir)/kb-packs/<pack>/...
# (nobase keeps the kb-packs/<pack>/ part of each path).
nobase_dist_pkgdata_DATA += \
	kb-packs/image/entries/load_files.yaml \
	kb-packs/image/entries/pretrained_backbone.yaml \
	kb-packs/image/entries/small_cnn.yaml \
	kb-packs/image/manifest.yaml \
	kb-packs/tabular/README.md \
	kb-packs/tabular/entries/categorical_encoding.yaml \
	kb-packs/tabular/entries/class_imbalance.yaml \
	kb-packs/tabular/entries/date_parts.yaml \
	kb-packs/tabular/entries/extra_trees.yaml \
	kb-packs/tabular/entries/feature_selection.yaml \
	kb-packs/tabular/entries/hist_gradient_boosting.yaml \
	kb-packs/tabular/entries/knn.yaml \
	kb-packs/tabular/entries/log_target.yaml \
	kb-packs/tabular/entries/logistic_regression.yaml \
	kb-packs/tabular/entries/mlp.yaml \
	kb-packs/tabular/entries/multi_target.yaml \
	kb-packs/tabular/entries/numeric_impute_scale.yaml \
	kb-packs/tabular/entries/pipeline.yaml \
	kb-packs/tabular/entries/random_forest.yaml \
	kb-packs/tabular/entries/ridge.yaml \
	kb-packs/tabular/entries/seed_averaging.yaml \
	kb-packs/tabular/entries/stacking.yaml \
	kb-packs/tabular/entries/svm.yaml \
	kb-packs/tabular/entries/target_encoding.yaml \
	kb-packs/tabular/entries/xgboost.yaml \
	kb-packs/tabular/manifest.yaml \
	kb-packs/tabular/templates/pipeline.py \
	kb-packs/text/entries/nbsvm.yaml \
	kb-packs/text/entries/tfidf.yaml \
	kb-packs/text/entries/transformer_finetune.yaml \
	kb-packs/text/manifest.yaml \
	kb-packs/timeseries/entries/calendar.yaml \
	kb-packs/timeseries/entries/lags.yaml \
	kb-packs/timeseries/entries/time_split.yaml \
	kb-packs/timeseries/manifest.yaml
